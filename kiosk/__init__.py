"""Pustaka Kiosk: the self-service station (flows, UI, CLI).

Importing this package must stay cheap and must never import Kivy: only
``kiosk.ui`` does.
"""

__version__ = "0.1.0"

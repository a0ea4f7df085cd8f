"""Pure-Python flows: every decision the kiosk makes, with no Kivy.

Screens show a flow's state and send it touches and scans; tests drive the
flows directly. Messages are gettext msgids in Bahasa Indonesia (the kiosk's
first language) with named parameters; the UI translates them.
"""

"""Pustaka Kiosk central server: circulation, events and kiosks behind ``/api/v1``."""

__version__ = "0.1.0"

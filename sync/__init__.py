"""Kiosk-side sync: local store, outbox, sync worker, and the wire schema shared with the server."""

"""Kiosk-side sync: local store (outbox + snapshot), sync worker, and the wire schema shared with the server."""

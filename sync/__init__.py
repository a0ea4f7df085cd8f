"""Kiosk-side sync: the local store (outbox, offline snapshot) and the sync worker."""

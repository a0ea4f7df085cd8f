"""What the kiosk and the central server agree on, and nothing else.

The bottom package: the error hierarchy with its patron-safe messages, the wire
schema, signed workshop tickets, transaction ids, and small text helpers. It
imports nothing of ours; ``devices``, ``sync``, ``server`` and ``kiosk`` all build
on it (the import contracts in ``pyproject.toml`` keep it that way).
"""

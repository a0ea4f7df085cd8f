"""Scanners and printers, chosen by URL; fakes ship here too. Never imports Kivy."""

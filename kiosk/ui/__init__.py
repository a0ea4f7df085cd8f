"""The Kivy touchscreen UI: one presenter + one .kv per screen."""

"""Simulated devices that ship with the package (like gpiozero's mock pins).

They are used only when configured (``fake-printer:`` URL, or built by a test
or a demo script): a device that fails to open is never replaced by a fake.
"""

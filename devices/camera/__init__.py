"""Camera scanning: capture (OpenCV), decoders (zxing-cpp, pyzbar), the default pipeline.

Importing this package never needs OpenCV or a decoder; using them does, and
fails with an install hint (``pip install 'pustaka-kiosk[camera]'``).
"""

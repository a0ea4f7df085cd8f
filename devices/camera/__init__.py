"""Camera scanning: capture (OpenCV), decoders (zxing-cpp, pyzbar), the default pipeline.

Importing this package never needs OpenCV or a decoder; using them does, and
fails with an install hint (``pip install 'pustaka-kiosk[camera]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.camera.decoders import Decoder


def make_decoder(name: str = "default", **kw: Any) -> Decoder:
    """``default`` (pipeline), ``zxing`` or ``pyzbar``.

    Lives here, above both decoder modules, so neither imports the other; the imports
    are inside so that importing the package never needs numpy or a decoder.
    """
    from devices.camera import decoders

    if name == "zxing":
        return decoders.ZxingDecoder(**kw)
    if name == "pyzbar":
        return decoders.PyzbarDecoder(**kw)
    if name == "default":
        from devices.camera.pipeline import DefaultDecoder

        return DefaultDecoder(**kw)
    raise ValueError(f"unknown decoder {name!r}; use default, zxing or pyzbar")

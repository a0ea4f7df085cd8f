"""``kiosk decode FILE…`` — print the codes found in image files.

One line per file: the file name, a tab, then each code as
``symbology:text`` separated by spaces (nothing after the tab when none).
Exit status: 0 when every file could be read as an image, 1 otherwise, 2 when
the camera packages are missing.
"""

from __future__ import annotations

import argparse
import sys

from core.errors import DeviceUnavailable


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kiosk decode", description="Read barcodes and QR codes in image files."
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument(
        "--decoder",
        choices=("default", "zxing", "pyzbar"),
        default="default",
        help="default: zxing-cpp then prepared images with both decoders",
    )
    args = parser.parse_args(argv)
    try:
        from devices.camera import make_decoder
        from devices.camera.decoders import require

        cv2 = require("cv2")
        decoder = make_decoder(args.decoder)
    except DeviceUnavailable as exc:
        print(f"kiosk decode: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # numpy itself missing
        print(
            f"kiosk decode: needs {exc.name!r}: pip install 'pustaka-kiosk[camera]'",
            file=sys.stderr,
        )
        return 2
    status = 0
    for name in args.files:
        gray = cv2.imread(name, cv2.IMREAD_GRAYSCALE)
        if gray is None:
            print(f"kiosk decode: {name}: not an image file (or cannot be read)", file=sys.stderr)
            print(f"{name}\t", flush=True)
            status = 1
            continue
        found = decoder.decode(gray)
        print(f"{name}\t" + " ".join(f"{d.symbology}:{d.text}" for d in found), flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

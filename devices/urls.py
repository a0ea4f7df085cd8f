"""Device URLs: ``scheme:path?key=value`` parsed once, with clear errors for bad values."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from core.errors import ConfigError

#: URL schemes handed to pyserial's ``serial_for_url`` by scanners and printers alike.
SERIAL_URL_SCHEMES = ("serial", "loop", "socket", "rfc2217", "spy", "hwgrep", "alt")


@dataclass(frozen=True, slots=True)
class DeviceURL:
    """A parsed device URL. ``path`` holds the host/port or the device path."""

    raw: str
    scheme: str
    netloc: str
    path: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """``netloc + path``: ``/dev/ttyACM0``, ``127.0.0.1:9100``, ``0``."""
        return self.netloc + self.path

    def _bad(self, key: str, value: str, want: str) -> ConfigError:
        return ConfigError(f"device URL {self.raw!r}: option {key}={value!r} is not {want}")

    def int(self, key: str, default: int) -> int:
        value = self.options.get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise self._bad(key, value, "a whole number") from None

    def float(self, key: str, default: float) -> float:
        value = self.options.get(key)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except ValueError:
            raise self._bad(key, value, "a number") from None

    def bool(self, key: str, default: bool) -> bool:
        value = self.options.get(key)
        if value is None or value == "":
            return default
        if value.lower() in {"1", "true", "yes", "on"}:
            return True
        if value.lower() in {"0", "false", "no", "off"}:
            return False
        raise self._bad(key, value, "yes/no (1/0)")


def parse_device_url(url: str) -> DeviceURL:
    """Split ``url``; the scheme is lower-cased and must be present."""
    if not isinstance(url, str) or ":" not in url:
        raise ConfigError(f"device URL {url!r} has no scheme (for example 'serial:///dev/ttyACM0')")
    parts = urlsplit(url)
    if not parts.scheme:
        raise ConfigError(f"device URL {url!r} has no scheme")
    try:
        options = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False))
    except ValueError as exc:
        raise ConfigError(f"device URL {url!r}: bad query string ({exc})") from None
    return DeviceURL(url, parts.scheme.lower(), parts.netloc, parts.path, options)

"""Go ``time.ParseDuration`` syntax for HEALTHCHECK flags (``1m30s``, ``500ms``, ``0``)."""

from __future__ import annotations

import re

from hoist.dockerfile.suggest import shorten

_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
          "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_PART = re.compile(r"([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)")
MIN_DURATION_NS = 1_000_000


def parse_duration(text: str, flag: str = "duration") -> int:
    """Return nanoseconds for a Go duration; 0 means "not set" (docker's default).

    Raises:
        ValueError: bad syntax, a negative value, or a value below 1ms other than 0.
    """
    from decimal import Decimal, InvalidOperation  # only HEALTHCHECK flags need it

    body = text.lstrip("+")
    if body == "0":
        return 0
    if body.startswith("-"):
        raise ValueError(f"--{flag} cannot be negative: {shorten(text)!r}")
    total, pos = Decimal(0), 0
    while pos < len(body):
        match = _PART.match(body, pos)
        if match is None or match.group(1) in ("", "."):
            raise ValueError(f"invalid --{flag} duration {shorten(text)!r}: "
                             "want e.g. 30s, 1m30s, 500ms")
        try:
            total += Decimal(match.group(1)) * _UNITS[match.group(2)]
        except InvalidOperation as exc:
            raise ValueError(f"invalid --{flag} duration {shorten(text)!r}") from exc
        pos = match.end()
    if not body:
        raise ValueError(f"invalid --{flag} duration {shorten(text)!r}")
    value = int(total)
    if 0 < value < MIN_DURATION_NS:
        raise ValueError(f"--{flag} {shorten(text)!r} cannot be less than 1ms")
    return value

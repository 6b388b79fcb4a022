"""EXPOSE values → docker's ``ExposedPorts`` keys (``80`` → ``80/tcp``, ranges expanded)."""

from __future__ import annotations

import re

from hoist.dockerfile.suggest import shorten

_PORT = re.compile(r"(\d+)(?:-(\d+))?")
MAX_RANGE = 65536


def normalise_ports(words: tuple[str, ...]) -> tuple[str, ...]:
    """``port[-end][/proto]`` words → ``port/proto`` keys, in order, without duplicates.

    Raises:
        ValueError: a port that is not a number in 0..65535, a reversed range,
            or an unknown protocol.
    """
    out: dict[str, None] = {}
    for word in words:
        spec, _, proto = word.rpartition(":")[2].partition("/")
        proto = proto or "tcp"
        if proto.lower() not in ("tcp", "udp", "sctp"):
            raise ValueError(f"invalid proto {shorten(proto)!r} in EXPOSE {shorten(word)!r}")
        match = _PORT.fullmatch(spec)
        if match is None:
            raise ValueError(f"invalid containerPort: {shorten(spec)!r}")
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else start
        if end < start or end >= MAX_RANGE:
            raise ValueError(f"invalid range specified for container port: {shorten(spec)!r}")
        for port in range(start, end + 1):
            out[f"{port}/{proto}"] = None
    return tuple(out)

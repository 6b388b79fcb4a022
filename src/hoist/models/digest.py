"""Content digests, parsed strictly before any use (SECURITY.md F3)."""

from __future__ import annotations

import hashlib
import re

import msgspec

from hoist.errors import InvalidDigest

_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_HEX = re.compile(r"[0-9a-f]+")


class Digest(msgspec.Struct, frozen=True, order=True):
    """An ``algorithm:hex`` content digest.

    Only sha256 and sha512 are accepted, with lower-case hex of exactly the
    algorithm's length; anything else raises :class:`InvalidDigest`, so a
    ``Digest`` is always safe to put in a path or a URL.
    """

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        want = _HEX_LENGTH.get(self.algorithm)
        if want is None:
            raise InvalidDigest(f"invalid digest: unsupported algorithm {self.algorithm!r}")
        if len(self.hex) != want or not _HEX.fullmatch(self.hex):
            raise InvalidDigest(
                f"invalid digest {self.algorithm}:{self.hex[:80]!r}: "
                f"want {want} lower-case hex characters"
            )

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``sha256:<64 hex>``; raise :class:`InvalidDigest` otherwise."""
        if not isinstance(text, str):
            raise InvalidDigest(f"invalid digest: expected a string, got {type(text).__name__}")
        algorithm, sep, hexpart = text.partition(":")
        if not sep:
            raise InvalidDigest(f"invalid digest {text[:80]!r}: missing 'algorithm:'")
        return cls(algorithm, hexpart)

    @classmethod
    def from_hex(cls, hexpart: str) -> Digest:
        return cls("sha256", hexpart)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def short(self) -> str:
        """The 12-character form docker prints (``8985045f8548``)."""
        return self.hex[:12]

    def hasher(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)


def sha256_of(data: bytes) -> Digest:
    """Digest of bytes held in memory (configs, manifests; never layers)."""
    return Digest("sha256", hashlib.sha256(data).hexdigest())

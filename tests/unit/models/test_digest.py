from __future__ import annotations

import hashlib

import pytest

from hoist.errors import InvalidDigest
from hoist.models import Digest, sha256_of

HEX = hashlib.sha256(b"x").hexdigest()


def test_round_trip() -> None:
    digest = Digest.parse(f"sha256:{HEX}")
    assert str(digest) == f"sha256:{HEX}"
    assert digest.short == HEX[:12]
    assert sha256_of(b"x") == digest


@pytest.mark.parametrize(
    "text",
    [
        "sha256:../../../../etc/passwd",
        f"sha256:{HEX.upper()}",
        f"sha256:{HEX[:-1]}",
        f"md5:{HEX}",
        "sha256:",
        f"sha512:{HEX}",
        f"sha256:{HEX[:-6]}%2e%2e%2e",
        HEX,
        "",
        f"sha256:{HEX}\n",
        f"SHA256:{HEX}",
    ],
)
def test_malformed_digests_are_rejected(text: str) -> None:
    with pytest.raises(InvalidDigest):
        Digest.parse(text)

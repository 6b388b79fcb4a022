"""Turning what a user typed (tag, full ID, ID prefix, name@digest) into an image ID."""

from __future__ import annotations

import re

from hoist.errors import ImageNotFound, InvalidReference
from hoist.models.digest import Digest
from hoist.models.reference import Reference
from hoist.store.db import Database

_FULL_ID = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
_PREFIX = re.compile(r"(?:sha256:)?([0-9a-f]{1,63})")


def resolve_image(db: Database, text: str) -> tuple[Digest, Reference | None]:
    """The image ``text`` names, and the tag it was found through (if any).

    Order as docker: a full ID, then a reference (tag or ``name@digest``), then
    an unambiguous ID prefix.
    Raises:
        ImageNotFound: nothing matches, or a prefix is ambiguous.
    """
    full = _FULL_ID.fullmatch(text)
    if full and db.one("SELECT 1 FROM images WHERE id=?", (f"sha256:{full[1]}",)):
        return Digest.from_hex(full[1]), None
    found = _by_reference(db, text)
    if found is not None:
        return found
    prefix = _PREFIX.fullmatch(text)
    if prefix:
        return _by_prefix(db, prefix[1], text), None
    raise ImageNotFound(f"no such image: {text}")


def _by_reference(db: Database, text: str) -> tuple[Digest, Reference | None] | None:
    try:
        ref = Reference.parse(text)
    except InvalidReference:
        return None
    if ref.digest is not None:
        row = db.one("SELECT id FROM images WHERE manifest_digest=?", (str(ref.digest),))
        return (Digest.parse(row[0]), None) if row else None
    row = db.one("SELECT image_id FROM tags WHERE name=?", (str(ref),))
    return (Digest.parse(row[0]), ref) if row else None


def _by_prefix(db: Database, hexprefix: str, text: str) -> Digest:
    rows = db.query(
        "SELECT id FROM images WHERE id >= ? AND id < ? LIMIT 2",
        (f"sha256:{hexprefix}", f"sha256:{hexprefix}\x7f"),
    )
    if not rows:
        raise ImageNotFound(f"no such image: {text}")
    if len(rows) > 1:
        raise ImageNotFound(f"no such image: {text}: the ID prefix is ambiguous")
    return Digest.parse(rows[0][0])

"""``--chmod`` values: octal (``0755``) or symbolic (``u+x,go-w``, ``a=rX``).

:func:`parse_chmod` validates; :func:`apply_chmod` computes the mode a file
gets (symbolic modes apply to the source file's mode, as ``chmod`` does;
``X`` adds execute only for directories or already-executable files).
"""

from __future__ import annotations

import re

import msgspec

from hoist.dockerfile.suggest import shorten
from hoist.errors import UserInputError

_OCTAL = re.compile(r"[0-7]{1,4}")
_CLAUSE = re.compile(r"([ugoa]*)((?:[-+=][rwxXst]*)+)")
_ACTION = re.compile(r"([-+=])([rwxXst]*)")
_WHO = {"u": 0o4700, "g": 0o2070, "o": 0o1007}
_PERM = {"r": 0o444, "w": 0o222, "x": 0o111, "s": 0o6000, "t": 0o1000}


class InvalidChmod(UserInputError, ValueError):
    """A ``--chmod`` value that is neither octal nor symbolic."""

    code = "invalid-chmod"


class Chmod(msgspec.Struct, frozen=True):
    """A parsed ``--chmod``: ``octal`` set, or symbolic ``clauses`` (who, op, perms)."""

    text: str
    octal: int | None = None
    clauses: tuple[tuple[str, str, str], ...] = ()

    def apply(self, mode: int, *, is_dir: bool) -> int:
        """The permission bits (07777) a file of ``mode`` gets; see :func:`apply_chmod`."""
        return apply_chmod(self, mode, is_dir)


def parse_chmod(text: str) -> Chmod:
    """Parse a ``--chmod`` value: octal, or clauses like ``u+x-w,go=rX``.

    Raises:
        InvalidChmod: neither octal nor a comma-separated list of symbolic clauses.
    """
    if _OCTAL.fullmatch(text):
        return Chmod(text, octal=int(text, 8))
    clauses = []
    for part in text.split(","):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise InvalidChmod(f"invalid chmod parameter {shorten(text)!r}: "
                               "want octal or symbolic mode")
        who = match.group(1) or "a"
        clauses += [(who, op, perms) for op, perms in _ACTION.findall(match.group(2))]
    return Chmod(text, clauses=tuple(clauses))


def _bits(who: str, perms: str, mode: int, is_dir: bool) -> int:
    mask = 0
    for w in "ugo" if "a" in who else who:
        mask |= _WHO[w]
    bits = 0
    for p in perms:
        if p == "X":
            bits |= 0o111 if is_dir or mode & 0o111 else 0
        else:
            bits |= _PERM[p]
    return bits & mask


def apply_chmod(spec: Chmod, mode: int, is_dir: bool) -> int:
    """Return the permission bits (07777) after applying ``spec`` to ``mode``."""
    if spec.octal is not None:
        return spec.octal
    mode &= 0o7777
    for who, op, perms in spec.clauses:
        bits = _bits(who, perms, mode, is_dir)
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = _bits(who, "rwxst", 0o777, True)
            mode = (mode & ~mask) | bits
    return mode

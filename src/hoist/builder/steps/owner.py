"""``--chown`` and ``--chmod`` of COPY/ADD: parsing, and user/group resolution.

``--chown`` follows BuildKit (``llbsolver/file/user_linux.go``): a numeric user
sets uid *and* gid to that number; a user name takes uid and primary gid from
the **image's own** ``/etc/passwd`` (read through the destination
:class:`~hoist.fs.resolve.Root`, never the host's); an explicit group (number,
or name looked up in the image's ``/etc/group``) overrides the gid. An unknown
name is an error (older BuildKit silently used 0).

``--chmod`` takes an octal mode (``755``: replaces the permission bits) or a
symbolic one like chmod(1) (``u+x``, ``a=rX,go-w``; ``X`` sets execute only
on directories and on files that already have an execute bit). A symbolic
clause without ``ugoa`` applies to all (no umask is involved). It applies to
every copied file and directory, not to created parent directories.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass

from hoist.errors import UserInputError
from hoist.fs.resolve import Root

__all__ = ["Chmod", "parse_chmod", "resolve_chown"]

_MAX_DB_BYTES = 4 << 20
_CLAUSE = re.compile(r"([ugoa]*)((?:[-+=][rwxXst]*)+)")
_ACTION = re.compile(r"([-+=])([rwxXst]*)")
_WHO = {"u": 0o4700, "g": 0o2070, "o": 0o1007, "a": 0o7777}
_PERM = {"r": 0o444, "w": 0o222, "x": 0o111, "s": 0o6000, "t": 0o1000}


@dataclass(frozen=True, slots=True)
class Chmod:
    """A parsed ``--chmod``: ``octal`` set, or symbolic ``clauses``."""

    text: str
    octal: int | None = None
    clauses: tuple[tuple[str, str, str], ...] = ()

    def apply(self, mode: int, *, is_dir: bool) -> int:
        """Return the permission bits (``S_IMODE``) for a file whose mode is ``mode``."""
        if self.octal is not None:
            return self.octal
        bits = stat.S_IMODE(mode)
        for who, op, perms in self.clauses:
            bits = _apply_clause(bits, who or "a", op, perms, is_dir or bool(mode & 0o111))
        return bits


def _apply_clause(bits: int, who: str, op: str, perms: str, executable: bool) -> int:
    mask = 0
    for w in who:
        mask |= _WHO[w]
    value = 0
    for p in perms:
        if p == "X":
            value |= 0o111 if executable else 0
        else:
            value |= _PERM[p]
    value &= mask
    if op == "+":
        return bits | value
    if op == "-":
        return bits & ~value
    return (bits & ~mask) | value


def parse_chmod(text: str) -> Chmod:
    """Parse a ``--chmod`` value.

    Raises:
        UserInputError: it is neither an octal mode nor a valid symbolic mode.
    """
    if re.fullmatch(r"[0-7]{1,4}", text):
        return Chmod(text, octal=int(text, 8))
    clauses = []
    for part in text.split(","):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise UserInputError(f"parsing --chmod={text}: invalid mode {part!r}")
        for op, perms in _ACTION.findall(match.group(2)):
            clauses.append((match.group(1), op, perms))
    return Chmod(text, clauses=tuple(clauses))


def resolve_chown(spec: str, root: Root) -> tuple[int, int]:
    """Resolve a ``--chown`` value to (uid, gid) using the image's own user database.

    Raises:
        UserInputError: the value is empty, or a name is not in the image's
            ``/etc/passwd`` or ``/etc/group``.
    """
    user, _, group = spec.partition(":")
    if not user:
        raise UserInputError(f"resolving --chown={spec}: empty user")
    if user.isdigit():
        uid = gid = int(user)
    else:
        entry = _lookup(root, "etc/passwd", user, spec)
        uid, gid = _number(entry, 2, spec), _number(entry, 3, spec)
    if group:
        gid = int(group) if group.isdigit() else _group_id(root, group, spec)
    return uid, gid


def _group_id(root: Root, group: str, spec: str) -> int:
    return _number(_lookup(root, "etc/group", group, spec), 2, spec)


def _lookup(root: Root, path: str, name: str, spec: str) -> list[str]:
    for line in _read_db(root, path, spec).splitlines():
        fields = line.split(":")
        if fields and fields[0] == name and len(fields) >= 3:
            return fields
    raise UserInputError(f"resolving --chown={spec}: no {name!r} in the image's /{path}")


def _number(fields: list[str], index: int, spec: str) -> int:
    try:
        return int(fields[index])
    except (IndexError, ValueError) as exc:
        raise UserInputError(
            f"resolving --chown={spec}: malformed entry for {fields[0]!r}"
        ) from exc


def _read_db(root: Root, path: str, spec: str) -> str:
    try:
        fd = root.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC, 0)
    except OSError as exc:
        raise UserInputError(f"resolving --chown={spec}: reading /{path}: {exc.strerror}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UserInputError(f"resolving --chown={spec}: /{path} is not a regular file")
        data = os.read(fd, _MAX_DB_BYTES)
    finally:
        os.close(fd)
    return data.decode("utf-8", "replace")

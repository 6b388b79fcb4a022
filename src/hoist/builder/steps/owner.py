"""``--chown`` and ``--chmod`` of COPY/ADD: parsing, and user/group resolution.

``--chown`` follows BuildKit (``llbsolver/file/user_linux.go``): a numeric user
sets uid *and* gid to that number; a user name takes uid and primary gid from
the **image's own** ``/etc/passwd`` (read through the destination
:class:`~hoist.fs.resolve.Root`, never the host's); an explicit group (number,
or name looked up in the image's ``/etc/group``) overrides the gid. An unknown
name is an error (older BuildKit silently used 0).

``--chmod`` is parsed and applied by :mod:`hoist.dockerfile.modes` (octal, or
symbolic like chmod(1)); it applies to every copied file and directory, not
to created parent directories.
"""

from __future__ import annotations

import os
import stat

from hoist.dockerfile.modes import Chmod, parse_chmod
from hoist.errors import UserInputError
from hoist.fs.resolve import Root

__all__ = ["Chmod", "parse_chmod", "resolve_chown"]  # Chmod/parse_chmod: hoist.dockerfile.modes

_MAX_DB_BYTES = 4 << 20


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

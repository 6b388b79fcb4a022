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

from hoist.dockerfile.modes import Chmod, parse_chmod
from hoist.errors import UserInputError
from hoist.fs.resolve import Root
from hoist.runtime.users import parse_group, parse_passwd, read_db

__all__ = ["Chmod", "parse_chmod", "resolve_chown"]  # Chmod/parse_chmod: hoist.dockerfile.modes


def resolve_chown(spec: str, root: Root) -> tuple[int, int]:
    """Resolve a ``--chown`` value to (uid, gid) using the image's own user database.

    The files are read and parsed as USER's are (:mod:`hoist.runtime.users`:
    malformed lines are skipped, as libc does); only the rules differ.

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
        uid, gid = _user_ids(root, user, spec)
    if group:
        gid = int(group) if group.isdigit() else _group_id(root, group, spec)
    return uid, gid


def _user_ids(root: Root, user: str, spec: str) -> tuple[int, int]:
    for entry in parse_passwd(read_db(root, "/etc/passwd")):
        if entry.name == user:
            return entry.uid, entry.gid
    raise UserInputError(f"resolving --chown={spec}: no {user!r} in the image's /etc/passwd")


def _group_id(root: Root, group: str, spec: str) -> int:
    for entry in parse_group(read_db(root, "/etc/group")):
        if entry.name == group:
            return entry.gid
    raise UserInputError(f"resolving --chown={spec}: no {group!r} in the image's /etc/group")

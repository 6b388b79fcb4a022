"""USER resolution from the image's own /etc/passwd and /etc/group.

``USER name|uid[:group|gid]`` is resolved the way Docker and runc do it, but
only ever against files read inside the rootfs through the root-confined
resolver (a symlinked ``/etc/passwd`` cannot point at the host's), never the
builder's own account database (CVE-2022-2990, CVE-2023-25173). When no group
is given and the user was found by name, the supplementary groups are every
group of the image's /etc/group listing that user.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import msgspec

from hoist.errors import UserInputError
from hoist.fs.resolve import Root

MAX_ID = 2**31 - 2  # ids are uint32 on Linux; -1 is "no change", keep clear of it
MAX_FILE = 4 * 1024 * 1024
_ABSENT = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)


class UserNotFound(UserInputError):
    code = "user-not-found"


class ExecUser(msgspec.Struct, frozen=True):
    """The identity a container process runs as."""

    uid: int
    gid: int
    additional_gids: tuple[int, ...]
    home: str


class PasswdEntry(msgspec.Struct, frozen=True):
    name: str
    uid: int
    gid: int
    home: str


class GroupEntry(msgspec.Struct, frozen=True):
    name: str
    gid: int
    members: tuple[str, ...]


def resolve_user(rootfs: Path, user: str) -> ExecUser:
    """Resolve a Dockerfile/config ``User`` value inside ``rootfs``.

    Raises:
        UserNotFound: a name that the image's passwd/group files do not have.
        UserInputError: a malformed value (``0:0:0``, an id out of range).
    """
    passwd = parse_passwd(_read_in_root(rootfs, "/etc/passwd"))
    group = parse_group(_read_in_root(rootfs, "/etc/group"))
    return resolve_user_in(user, passwd, group)


def resolve_user_in(user: str, passwd: list[PasswdEntry], group: list[GroupEntry]) -> ExecUser:
    """The pure part of :func:`resolve_user`: resolution against parsed files."""
    user_part, sep, group_part = (user or "0").partition(":")
    if ":" in group_part or (sep and not group_part) or not user_part:
        raise UserInputError(f"resolving user {user!r}: expected user[:group]")
    entry = _find_user(user_part, passwd)
    if group_part:
        gid = _find_group(group_part, group)
        return ExecUser(entry.uid, gid, (), entry.home)
    if not entry.name:
        return ExecUser(entry.uid, entry.gid, (), entry.home)
    extra = tuple(g.gid for g in group if entry.name in g.members)
    return ExecUser(entry.uid, entry.gid, extra, entry.home)


def _find_user(spec: str, passwd: list[PasswdEntry]) -> PasswdEntry:
    if spec.isdigit():
        uid = _check_id(spec, "user")
        for entry in passwd:
            if entry.uid == uid:
                return entry
        return PasswdEntry("", uid, 0, "/")
    for entry in passwd:
        if entry.name == spec:
            return entry
    raise UserNotFound(f"resolving user {spec!r}: no such user in the image's /etc/passwd")


def _find_group(spec: str, group: list[GroupEntry]) -> int:
    if spec.isdigit():
        return _check_id(spec, "group")
    for entry in group:
        if entry.name == spec:
            return entry.gid
    raise UserNotFound(f"resolving group {spec!r}: no such group in the image's /etc/group")


def _check_id(text: str, what: str) -> int:
    value = int(text)
    if value > MAX_ID:
        raise UserInputError(f"resolving {what} {text}: id out of range")
    return value


def parse_passwd(text: str) -> list[PasswdEntry]:
    """Entries of a passwd file; malformed lines are skipped (as libc does)."""
    entries = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 7 or not fields[2].isdigit() or not fields[3].isdigit():
            continue
        entries.append(PasswdEntry(fields[0], int(fields[2]), int(fields[3]), fields[5] or "/"))
    return entries


def parse_group(text: str) -> list[GroupEntry]:
    """Entries of a group file; malformed lines are skipped."""
    entries = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 4 or not fields[2].isdigit():
            continue
        members = tuple(m.strip() for m in fields[3].split(",") if m.strip())
        entries.append(GroupEntry(fields[0], int(fields[2]), members))
    return entries


def _read_in_root(rootfs: Path, path: str) -> str:
    """Content of ``path`` inside ``rootfs``, or "" when absent or not a regular file."""
    try:
        root = Root(rootfs)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return ""
        raise UserInputError(f"reading {path} of the image: {exc.strerror}") from exc
    with root:
        return read_db(root, path)


def read_db(root: Root, path: str) -> str:
    """Content of account database ``path`` (``/etc/passwd``, ``/etc/group``) in ``root``.

    "" when it is absent or not a regular file (a FIFO or device is never read:
    it could block forever).

    Raises:
        UserInputError: it cannot be read, or is larger than ``MAX_FILE``.
    """
    try:
        fd = root.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC, 0)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return ""
        raise UserInputError(f"reading {path} of the image: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as f:
        if not _is_regular(f.fileno()):
            return ""
        data = f.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise UserInputError(f"reading {path} of the image: larger than {MAX_FILE} bytes")
    return data.decode("utf-8", "replace")


def _is_regular(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)

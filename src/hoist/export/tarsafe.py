"""Reading tar archives safely: names checked, offsets monotonic, entries bounded.

``tarfile`` is used for parsing only (SECURITY.md rule 4). Every entry name is
checked before use: an absolute name or a ``..`` component is an error naming
the archive and the entry. Header offsets must grow from entry to entry, which
stops the crafted-offset loops of CVE-2025-8194 on unpatched Pythons.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator

from hoist.errors import ArchiveError

MAX_ENTRIES = 1_000_000
_TAR_ERRORS = (tarfile.TarError, EOFError, OSError, ValueError, UnicodeError)


def clean_name(name: str, archive: str) -> str:
    """``./a//b`` → ``a/b``.

    Raises:
        ArchiveError: the name is absolute or has a ``..`` component.
    """
    if name.startswith("/"):
        raise ArchiveError(f"reading {archive}: entry {name!r} is an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"reading {archive}: entry {name!r} points outside the archive (..)")
    return "/".join(parts)


def iter_members(tar: tarfile.TarFile, archive: str) -> Iterator[tarfile.TarInfo]:
    """Yield entries one by one, with the checks of the module docstring.

    Raises:
        ArchiveError: truncated or corrupt data, a bad offset, too many entries,
            or a bad entry name (names of links are checked too).
    """
    last = -1
    for count in range(MAX_ENTRIES + 1):
        member = _next(tar, archive)
        if member is None:
            return
        if count == MAX_ENTRIES:
            raise ArchiveError(f"reading {archive}: more than {MAX_ENTRIES} entries")
        if member.offset <= last or member.size < 0:
            raise ArchiveError(f"reading {archive}: entry {member.name!r} has a corrupt header")
        last = member.offset
        clean_name(member.name, archive)
        if member.islnk():
            clean_name(member.linkname, archive)
        yield member


def _next(tar: tarfile.TarFile, archive: str) -> tarfile.TarInfo | None:
    try:
        return tar.next()
    except _TAR_ERRORS as exc:
        raise ArchiveError(f"reading {archive}: {_cause(exc)}") from exc


def _cause(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "unexpected end" in text:
        return "unexpected end of data (truncated archive)"
    return text


def translate(exc: BaseException, archive: str) -> ArchiveError:
    """A foreign tar/IO error as an :class:`ArchiveError` naming the archive."""
    return ArchiveError(f"reading {archive}: {_cause(exc)}")


TAR_ERRORS = _TAR_ERRORS

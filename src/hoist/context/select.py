"""Selecting COPY/ADD sources in a build context (or another stage's rootfs).

The rules, after BuildKit's (dockerfile2llb + fsutil ``copy``):

* A source is cleaned as if it were absolute, so ``..`` is **clamped at the
  root**: ``../secret``, ``/../../etc/passwd`` and ``a/../../b`` name
  ``secret``, ``etc/passwd`` and ``b`` *inside* the context. This is
  BuildKit's rule (the classic builder rejected such paths instead); either
  way no byte outside the context is read.
* Wildcards (``*``, ``?``, ``[…]``, ``\\`` escapes: Go's ``filepath.Match``)
  are matched one path component at a time against directory listings, so
  ``*`` never crosses a ``/`` and matches dot-files too. Matches are sorted.
* Symlinks on the way to a source, and a source that is itself a symlink,
  are followed **inside the root** (chroot semantics through
  :class:`hoist.fs.resolve.Root`): ``evil -> /etc`` makes ``evil/passwd``
  mean ``<root>/etc/passwd``. Symlinks *inside* a copied directory are not
  followed: they are copied as symlinks with their targets verbatim.
* Ignored files are invisible (the ignore file was applied when BuildKit sent
  the context): a source that is ignored, or that resolves to an ignored
  path, is "not found". An ignored directory with re-included children
  (``!dir/keep``) is visible with only those children.
* A source that matches nothing is an error naming the source and the
  Dockerfile position the caller passes in ``where``.

Only the selected paths are listed, stat'ed or read: nothing else of the
context is touched. FIFOs are never opened, sockets are skipped, and an
unreadable file is an error naming it (see :func:`open_file`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator, Sequence

import msgspec

from hoist.context.ignore import IgnoreMatcher, clean_path
from hoist.errors import ContextError
from hoist.fs.resolve import Root

__all__ = [
    "Entry",
    "Selected",
    "SourceTree",
    "has_wildcards",
    "list_entries",
    "open_file",
    "open_subdir",
    "select_sources",
]

# Directories are opened through Root.open with mode 0: O_DIRECTORY shares bits with
# O_TMPFILE, and openat2 rejects a non-zero mode unless a file is created.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOFOLLOW_DIR = _DIR_FLAGS | os.O_NOFOLLOW
# O_NONBLOCK: if a FIFO is swapped in after the lstat, open() must not hang.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class SourceTree(msgspec.Struct, frozen=True):
    """Where COPY sources come from: the context, or a stage's/image's rootfs.

    ``ignore`` hides paths (the ``.dockerignore`` of the context; None for a
    rootfs). ``exclude`` holds ``COPY --exclude`` patterns, matched against
    paths relative to each copied source directory and against wildcard
    matches relative to the root. ``keep_owner`` is True for ``--from``
    roots, whose uid/gid are kept (the context's are reset to 0:0, as the
    docker CLI does when it sends the context).
    """

    root: Root
    ignore: IgnoreMatcher | None = None
    exclude: IgnoreMatcher | None = None
    label: str = "build context"
    keep_owner: bool = False


class Selected(msgspec.Struct, frozen=True):
    """One selected source.

    ``path`` is its in-root path with every symlink resolved (``"."`` for the
    root itself); ``name`` the last component as written or matched (the
    name it gets inside a destination directory; ``""`` for the root);
    ``parents`` the directory part kept by ``COPY --parents``.
    """

    tree: SourceTree
    pattern: str
    path: str
    name: str
    parents: str
    mode: int
    wildcard: bool

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


class Entry(msgspec.Struct, frozen=True):
    """A directory entry of a walked source: its name, in-root path and lstat."""

    name: str
    path: str
    st: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)


# --- patterns --------------------------------------------------------------------------------


def has_wildcards(text: str) -> bool:
    """Return whether ``text`` holds an unescaped ``*``, ``?`` or ``[``."""
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "*?[":
            return True
    return False


def _is_pattern(component: str) -> bool:
    # A backslash escape makes a component a pattern too: "a\\*b" names "a*b".
    return has_wildcards(component) or "\\" in component


def _component_regex(pattern: str, source: str) -> re.Pattern[str]:
    """Compile one path component of Go's ``filepath.Match`` syntax.

    Raises:
        ContextError: the pattern is malformed (unclosed class, trailing ``\\``).
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            regex, i = _class_regex(pattern, i, source)
            out.append(regex)
            continue
        elif ch == "\\":
            if i + 1 >= len(pattern):
                raise _bad_pattern(source)
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _class_regex(pattern: str, i: int, source: str) -> tuple[str, int]:
    """Translate the class starting at ``pattern[i] == "["``; return (regex, next index)."""
    i += 1
    negate = i < len(pattern) and pattern[i] == "^"
    i += negate
    ranges: list[str] = []
    while True:
        if i >= len(pattern):
            raise _bad_pattern(source)
        if pattern[i] == "]" and ranges:
            break
        low, i = _class_char(pattern, i, source)
        high = low
        if i < len(pattern) and pattern[i] == "-":
            high, i = _class_char(pattern, i + 1, source)
        ranges.append(f"{re.escape(low)}-{re.escape(high)}")
    return f"[{'^/' if negate else ''}{''.join(ranges)}]", i + 1


def _class_char(pattern: str, i: int, source: str) -> tuple[str, int]:
    if i >= len(pattern) or pattern[i] in "-]":
        raise _bad_pattern(source)
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise _bad_pattern(source)
    return pattern[i], i + 1


def _bad_pattern(source: str) -> ContextError:
    return ContextError(f"selecting source {source!r}: syntax error in pattern")


# --- selection -------------------------------------------------------------------------------


def select_sources(tree: SourceTree, patterns: Sequence[str], *, where: str = "") -> list[Selected]:
    """Return the sources that ``patterns`` (already variable-expanded) select.

    ``where`` (e.g. ``"Dockerfile:7"``) is put in error messages.

    Raises:
        ContextError: a pattern selects nothing (or only ignored files), or is malformed.
    """
    selected: list[Selected] = []
    for pattern in patterns:
        found = _select_one(tree, pattern)
        if not found:
            raise _not_found(tree, pattern, where)
        selected.extend(found)
    return selected


def _not_found(tree: SourceTree, pattern: str, where: str) -> ContextError:
    at = f" ({where})" if where else ""
    hint = None
    if tree.ignore:
        hint = f"check that {tree.ignore.source or 'the ignore file'} does not exclude it"
    return ContextError(
        f"selecting source {pattern!r}{at}: not found in the {tree.label}", hint=hint
    )


def _select_one(tree: SourceTree, pattern: str) -> list[Selected]:
    pivot, rest = _split_pivot(pattern)
    parts = [p for p in clean_path("/" + rest).split("/") if p]
    if not any(_is_pattern(p) for p in parts):
        literal = "/".join(parts)
        found = _lookup(tree, pattern, literal, wildcard=False)
        return [] if found is None else [_with_parents(found, pivot)]
    selected = []
    wild = any(has_wildcards(p) for p in parts)
    for literal in _expand(tree, parts, pattern):
        if tree.exclude is not None and tree.exclude.excludes(literal):
            continue
        found = _lookup(tree, pattern, literal, wildcard=wild)
        if found is not None:
            selected.append(_with_parents(found, pivot))
    return selected


def _split_pivot(pattern: str) -> tuple[str, str]:
    """Split ``COPY --parents`` pivot: ``a/./b/c`` keeps only ``b`` as parents.

    Returns (the part before the last ``/./``, the whole path without the marker).
    """
    index = pattern.rfind("/./")
    if index < 0:
        return "", pattern
    return pattern[:index], pattern[:index] + pattern[index + 2 :]


def _with_parents(found: Selected, pivot: str) -> Selected:
    parent = clean_path("/" + found.parents).lstrip("/")
    drop = clean_path("/" + pivot).lstrip("/") if pivot else ""
    if drop and (parent == drop or parent.startswith(drop + "/")):
        parent = parent[len(drop) :].lstrip("/")
    return Selected(
        found.tree, found.pattern, found.path, found.name, parent, found.mode, found.wildcard
    )


def _expand(tree: SourceTree, parts: list[str], pattern: str) -> list[str]:
    """Expand wildcard components one level at a time; return literal paths, sorted."""
    candidates = [""]
    for part in parts:
        if not _is_pattern(part):
            candidates = [_join(prefix, part) for prefix in candidates]
            continue
        regex = _component_regex(part, pattern)
        candidates = [
            _join(prefix, name)
            for prefix in candidates
            for name in _visible_names(tree, prefix)
            if regex.fullmatch(name)
        ]
    return sorted(candidates, key=os.fsencode)


def _visible_names(tree: SourceTree, literal_dir: str) -> list[str]:
    """Names in a directory (followed inside the root) that the ignore file leaves visible."""
    try:
        resolved = tree.root.resolve(literal_dir or ".", follow_final=True)
        fd = tree.root.open(resolved, _DIR_FLAGS, 0)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise _io_error(tree, literal_dir, exc) from exc
    try:
        return [e.name for e in list_entries(tree, fd, _norm(resolved))]
    finally:
        os.close(fd)


def _lookup(tree: SourceTree, pattern: str, literal: str, *, wildcard: bool) -> Selected | None:
    """Resolve one literal path inside the root; None when absent or ignored."""
    literal = literal or "."
    try:
        resolved = _norm(tree.root.resolve(literal, follow_final=True))
        # Already resolved: no O_NOFOLLOW (on "." the manual walk would stat a /proc magic link).
        fd = tree.root.open(resolved, os.O_PATH | os.O_CLOEXEC, 0)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise _io_error(tree, literal, exc) from exc
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    if stat.S_ISSOCK(st.st_mode):
        return None
    is_dir = stat.S_ISDIR(st.st_mode)
    if _hidden(tree.ignore, literal, is_dir) or _hidden(tree.ignore, resolved, is_dir):
        return None
    name = "" if literal == "." else literal.rsplit("/", 1)[-1]
    parents = literal.rsplit("/", 1)[0] if "/" in literal else ""
    return Selected(tree, pattern, resolved, name, parents, st.st_mode, wildcard)


def _hidden(ignore: IgnoreMatcher | None, path: str, is_dir: bool) -> bool:
    """Whether the ignore file keeps ``path`` out of the context.

    An excluded directory stays visible when exceptions may re-include
    something below it (it then holds only those children).
    """
    if not ignore or path == ".":
        return False
    if not is_dir:
        return ignore.excludes(path)
    parts = path.split("/")
    return any(ignore.can_prune("/".join(parts[:i])) for i in range(1, len(parts) + 1))


def _norm(path: str) -> str:
    return path.strip("/") or "."


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _io_error(tree: SourceTree, path: str, exc: OSError) -> ContextError:
    return ContextError(f"reading {path!r} in the {tree.label}: {exc.strerror or exc}")


# --- walking a selected directory ------------------------------------------------------------


def list_entries(
    tree: SourceTree, dirfd: int, dir_path: str, rel: str = ""
) -> list[Entry]:
    """List the visible entries of an open directory, sorted by name (bytes order).

    ``dir_path`` is the directory's in-root path (for the ignore file),
    ``rel`` its path relative to the copied source (for ``--exclude``).
    Sockets are skipped; ignored entries are left out; an excluded directory
    is kept only when something below it is re-included.

    Raises:
        ContextError: the directory cannot be listed.
    """
    try:
        names = sorted(os.listdir(dirfd), key=os.fsencode)
    except OSError as exc:
        raise _io_error(tree, dir_path, exc) from exc
    entries = []
    for name in names:
        entry = _entry(tree, dirfd, name, _join("" if dir_path == "." else dir_path, name))
        if entry is not None and _visible(tree, dirfd, entry, _join(rel, name)):
            entries.append(entry)
    return entries


def _entry(tree: SourceTree, dirfd: int, name: str, path: str) -> Entry | None:
    try:
        st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    except FileNotFoundError:
        return None  # removed while we walked
    except OSError as exc:
        raise _io_error(tree, path, exc) from exc
    if stat.S_ISSOCK(st.st_mode):
        return None
    return Entry(name, path, st)


def _visible(tree: SourceTree, dirfd: int, entry: Entry, rel: str) -> bool:
    if tree.exclude is not None and _excluded(tree.exclude, rel, entry.is_dir):
        return False
    ignore = tree.ignore
    if not ignore:
        return True
    if not entry.is_dir:
        return not ignore.matches(entry.path)
    if ignore.can_prune(entry.path):
        return False
    if not ignore.matches(entry.path):
        return True
    return _has_visible_child(tree, dirfd, entry, rel)


def _excluded(exclude: IgnoreMatcher, rel: str, is_dir: bool) -> bool:
    return exclude.can_prune(rel) if is_dir else exclude.matches(rel)


def _has_visible_child(tree: SourceTree, dirfd: int, entry: Entry, rel: str) -> bool:
    fd = open_subdir(tree, dirfd, entry)
    try:
        return bool(list_entries(tree, fd, entry.path, rel))
    finally:
        os.close(fd)


def open_subdir(tree: SourceTree, dirfd: int, entry: Entry) -> int:
    """Open a child directory without following a symlink (it was lstat'ed as a dir).

    Raises:
        ContextError: it cannot be opened, or was replaced by something else.
    """
    try:
        return os.open(entry.name, _NOFOLLOW_DIR, dir_fd=dirfd)
    except OSError as exc:
        raise _io_error(tree, entry.path, exc) from exc


def open_file(tree: SourceTree, dirfd: int, entry: Entry) -> int:
    """Open a regular file for reading, never following a link or blocking on a FIFO.

    Raises:
        ContextError: it is unreadable (naming it), or is no longer the file that was stat'ed.
    """
    try:
        fd = os.open(entry.name, _FILE_FLAGS, dir_fd=dirfd)
    except OSError as exc:
        raise _io_error(tree, entry.path, exc) from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (
        entry.st.st_dev,
        entry.st.st_ino,
    ):
        os.close(fd)
        raise ContextError(f"reading {entry.path!r} in the {tree.label}: changed while reading")
    return fd


def open_selected(sel: Selected) -> tuple[int, Entry]:
    """Open the parent directory of a selected source; return (dirfd, its Entry).

    Raises:
        ContextError: it vanished or cannot be opened.
    """
    tree = sel.tree
    parent, _, name = sel.path.rpartition("/")
    try:
        fd = tree.root.open(parent or ".", _DIR_FLAGS, 0)
        st = os.stat(name, dir_fd=fd, follow_symlinks=False) if name != "." else os.fstat(fd)
    except OSError as exc:
        raise _io_error(tree, sel.path, exc) from exc
    return fd, Entry(name, sel.path, st)


def open_selected_dir(sel: Selected) -> int:
    """Open a selected directory (its path holds no symlink any more).

    Raises:
        ContextError: it cannot be opened.
    """
    try:
        return sel.tree.root.open(sel.path, _DIR_FLAGS, 0)
    except OSError as exc:
        raise _io_error(sel.tree, sel.path, exc) from exc


def iter_tree(tree: SourceTree, dirfd: int, dir_path: str, rel: str = "") -> Iterator[Entry]:
    """Yield every visible entry below an open directory, depth first, sorted."""
    for entry in list_entries(tree, dirfd, dir_path, rel):
        yield entry
        if entry.is_dir:
            fd = open_subdir(tree, dirfd, entry)
            try:
                yield from iter_tree(tree, fd, entry.path, _join(rel, entry.name))
            finally:
                os.close(fd)

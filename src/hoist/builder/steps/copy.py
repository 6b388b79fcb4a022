"""COPY into a rootfs directory, with Docker/BuildKit's destination rules.

Destination rules (dockerfile2llb + fsutil ``copy``):

* a relative destination is joined to WORKDIR; ``..`` is clamped at ``/``;
* the destination is a **directory** when it ends with ``/`` (or is ``.``/
  ends with ``/.``), when there are several sources, when a source was a
  wildcard, with ``--parents``, or when it already is a directory (symlinks
  to directories inside the rootfs count: ``/var/run -> /run``);
* a file source goes to ``dest`` or ``dest/<name>`` accordingly; a directory
  source copies its **contents** into ``dest`` (``--parents`` keeps the
  source's directory path below ``dest``);
* missing directories on the way are created with mode 0755 and owned by
  the ``--chown`` user or 0:0, as BuildKit's ``MkdirAll`` does, and so is the
  destination a directory source's contents go to, with or without a
  trailing ``/`` (``COPY dir /d``: 0755 whatever the source's mode or
  ``--chmod``, recorded from BuildKit); an existing directory keeps its own
  metadata;
* copied entries keep their mode (or get ``--chmod``), their atime and mtime
  and their xattrs (except ``trusted.overlay.*``); they are owned by the
  ``--chown`` user, else by 0:0 for the context and by their original owner
  for ``--from`` sources; symlinks are copied as symlinks, targets verbatim;
  hardlinks within one copied tree stay hardlinks; FIFOs are re-created,
  device nodes too when running as root; sockets were never selected;
* an existing destination file or symlink is replaced by a copied file; a
  copied directory merges into an existing directory; inside a copied tree,
  a destination entry that is not a directory where the source has one (a
  file, or a symlink even to a directory, like ``/bin -> usr/bin``) is an
  error "cannot copy to non-directory", as in BuildKit (moby#47367; the
  classic builder replaced the symlink); the destination path given in the
  instruction is resolved through symlinks *inside* the rootfs.

Everything in the rootfs is resolved through :class:`hoist.fs.resolve.Root`
and written by descriptor: created under its final name with ``O_EXCL`` (so
nothing already there is followed or replaced), content,
``fchown``/``fchmod``/``futimens``; only when the name is taken is the entry
made under a temp name in the target directory and renamed over it (a
rename per file is a measurable part of copying a 20,000-file context).

``--link`` is accepted and ignored: hoist writes the same files either way
(the layer of a COPY holds exactly what it copied), only BuildKit's layer
rebasing differs, which hoist does not do.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Sequence

from hoist.builder.steps.copydest import (
    Copier,
    CopyOptions,
    copy_data_slow,
    destination_path,
    ensure_dir,
    is_dir,
    mkdir_all,
    open_dir,
    prepare_parent,
    real_path,
    replace_via_tmp,
    strip_slashes,
    unlink_quietly,
    write_error,
)
from hoist.context.select import (
    Entry,
    Selected,
    SourceTree,
    list_entries,
    open_file,
    open_selected,
    open_selected_dir,
    open_subdir,
)
from hoist.fs.resolve import Root

__all__ = ["copy_into"]

_TMP_PREFIX = ".hoist-copy-"
_SKIP_XATTRS = ("trusted.overlay.",)
_PATH_FLAGS = os.O_PATH | os.O_CLOEXEC


def copy_into(
    sources: Sequence[Selected],
    dest: str,
    workdir: str,
    dest_root: Root,
    *,
    options: CopyOptions | None = None,
    where: str = "",
    force_dir: bool = False,
) -> None:
    """Copy selected sources into the rootfs ``dest_root`` (see the module rules).

    ``force_dir`` makes ``dest`` a directory whatever its spelling (ADD uses it
    when some of several sources were archives, extracted separately).

    Raises:
        BuildError: writing the destination failed (e.g. a file where a
            directory must be), naming the path and ``where``.
        ContextError: a source could not be read.
    """
    options = options or CopyOptions()
    path, as_dir = destination_path(dest, workdir)
    as_dir = as_dir or force_dir or len(sources) > 1 or options.parents
    as_dir = as_dir or any(s.wildcard for s in sources)
    copier = Copier(dest_root, options, where)
    if not as_dir and is_dir(copier, path):
        as_dir = True
    for sel in sources:
        _copy_source(copier, sel, path, as_dir)


def _copy_source(copier: Copier, sel: Selected, dest: str, as_dir: bool) -> None:
    base = posixpath.join(dest, sel.parents) if copier.options.parents else dest
    if sel.is_dir:
        if copier.options.parents and sel.name:
            _copy_dir_source(copier, sel, posixpath.join(base, sel.name), keep_meta=False)
        else:
            _copy_dir_source(copier, sel, base, keep_meta=True)
        return
    target = posixpath.join(base, sel.name) if as_dir else dest
    parent_fd, name = prepare_parent(copier, target)
    src_dirfd, entry = open_selected(sel)
    try:
        _copy_entry(copier, sel.tree, src_dirfd, entry, parent_fd, name, strip_slashes(target))
    finally:
        os.close(src_dirfd)
        os.close(parent_fd)


def _copy_dir_source(copier: Copier, sel: Selected, target: str, *, keep_meta: bool) -> None:
    """Copy a directory's contents to ``target``.

    With ``keep_meta`` (the destination is a directory by syntax, e.g. a
    trailing ``/``) a missing target is made like a parent (0755, ``--chown``
    owner), as BuildKit's ``MkdirAll`` of the destination does; otherwise a
    missing target is created with the source directory's metadata.
    """
    if keep_meta:
        mkdir_all(copier, target)
    src_fd = open_selected_dir(sel)
    try:
        st = os.fstat(src_fd)
        dst_fd, created = _open_target_dir(copier, target)
        try:
            real = real_path(copier, target)
            _copy_children(copier, sel.tree, src_fd, sel.path, "", dst_fd, real)
            if created:
                _copy_xattrs(src_fd, dst_fd)
                _set_meta(copier, sel.tree, dst_fd, st, target)
        finally:
            os.close(dst_fd)
    finally:
        os.close(src_fd)


def _open_target_dir(copier: Copier, target: str) -> tuple[int, bool]:
    """Open (following symlinks inside the rootfs) or create the directory a tree goes to."""
    if is_dir(copier, target):
        return open_dir(copier, target), False
    parent_fd, name = prepare_parent(copier, target)
    try:
        return ensure_dir(copier, parent_fd, name, target)
    finally:
        os.close(parent_fd)


def _copy_children(
    copier: Copier,
    tree: SourceTree,
    src_fd: int,
    src_path: str,
    rel: str,
    dst_fd: int,
    dst_path: str,
) -> None:
    for entry in list_entries(tree, src_fd, src_path, rel):
        child_rel = f"{rel}/{entry.name}" if rel else entry.name
        child_dst = f"{dst_path}/{entry.name}" if dst_path else entry.name
        if entry.is_dir:
            _copy_subdir(copier, tree, src_fd, entry, child_rel, dst_fd, child_dst)
        else:
            _copy_entry(copier, tree, src_fd, entry, dst_fd, entry.name, child_dst)


def _copy_subdir(
    copier: Copier,
    tree: SourceTree,
    src_dirfd: int,
    entry: Entry,
    rel: str,
    dst_dirfd: int,
    dst_path: str,
) -> None:
    src_fd = open_subdir(tree, src_dirfd, entry)
    try:
        dst_fd, _ = ensure_dir(copier, dst_dirfd, entry.name, dst_path)
        try:
            _copy_xattrs(src_fd, dst_fd)
            _copy_children(copier, tree, src_fd, entry.path, rel, dst_fd, dst_path)
            _set_meta(copier, tree, dst_fd, entry.st, dst_path)
        finally:
            os.close(dst_fd)
    finally:
        os.close(src_fd)


def _copy_entry(
    copier: Copier,
    tree: SourceTree,
    src_dirfd: int,
    entry: Entry,
    dst_dirfd: int,
    name: str,
    dst_path: str,
) -> None:
    """Copy one non-directory entry to ``name`` in ``dst_dirfd`` (replacing what is there)."""
    st = entry.st
    key = (st.st_dev, st.st_ino)
    if st.st_nlink > 1 and key in copier.links:
        _link(copier, copier.links[key], dst_dirfd, name, dst_path)
        return
    try:
        _place(copier, tree, src_dirfd, entry, dst_dirfd, name)
    except OSError as exc:
        raise write_error(copier, dst_path, exc) from exc
    if st.st_nlink > 1 and not stat.S_ISLNK(st.st_mode):
        copier.links[key] = dst_path


def _place(
    copier: Copier, tree: SourceTree, src_dirfd: int, entry: Entry, dst_dirfd: int, name: str
) -> None:
    """Create the copy as ``name``: directly when the name is free, else by temp + rename.

    Every create is exclusive (``O_EXCL``, ``symlink``, ``mkfifo``, ``mknod`` fail
    with EEXIST before making anything), so the direct attempt never writes
    through or replaces an existing entry.

    Raises:
        OSError: creating, filling or renaming failed (nothing half-made is left).
    """
    try:
        _create(copier, tree, src_dirfd, entry, dst_dirfd, name)
        return
    except FileExistsError:
        pass  # something is there already: replace it atomically
    replace_via_tmp(
        dst_dirfd, name, lambda tmp: _create(copier, tree, src_dirfd, entry, dst_dirfd, tmp)
    )


def _create(
    copier: Copier, tree: SourceTree, src_dirfd: int, entry: Entry, dst_dirfd: int, name: str
) -> None:
    """Make ``name`` in ``dst_dirfd`` (exclusively) as a copy of ``entry``.

    Raises:
        FileExistsError: ``name`` exists; nothing was made or changed.
        OSError: anything else; a ``name`` made here has been removed again.
    """
    st = entry.st
    if stat.S_ISREG(st.st_mode):
        src = open_file(tree, src_dirfd, entry)
        try:
            _create_file(copier, tree, src, st, dst_dirfd, name)
        finally:
            os.close(src)
        return
    _make_node(src_dirfd, entry, dst_dirfd, name)
    try:
        _node_meta(copier, tree, st, dst_dirfd, name)
    except OSError:
        unlink_quietly(dst_dirfd, name)
        raise


def _make_node(src_dirfd: int, entry: Entry, dst_dirfd: int, name: str) -> None:
    """A symlink (target verbatim), FIFO or device node; never opened for reading."""
    st = entry.st
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(entry.name, dir_fd=src_dirfd), name, dir_fd=dst_dirfd)
    elif stat.S_ISFIFO(st.st_mode):
        os.mkfifo(name, 0o600, dir_fd=dst_dirfd)
    else:
        os.mknod(name, stat.S_IFMT(st.st_mode) | 0o600, st.st_rdev, dir_fd=dst_dirfd)


def _node_meta(
    copier: Copier, tree: SourceTree, st: os.stat_result, dst_dirfd: int, name: str
) -> None:
    if stat.S_ISLNK(st.st_mode):
        uid, gid = copier.owner(tree, st)
        os.chown(name, uid, gid, dir_fd=dst_dirfd, follow_symlinks=False)
        os.utime(name, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dst_dirfd, follow_symlinks=False)
        return
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dst_dirfd)
    try:
        _set_meta_path(copier, tree, fd, st)
    finally:
        os.close(fd)


def _create_file(
    copier: Copier, tree: SourceTree, src: int, st: os.stat_result, dst_dirfd: int, name: str
) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    dst = os.open(name, flags, 0o600, dir_fd=dst_dirfd)
    try:
        _copy_data(src, dst, st.st_size)
        _copy_xattrs(src, dst)
        _set_meta(copier, tree, dst, st, name)
    except BaseException:
        unlink_quietly(dst_dirfd, name)
        raise
    finally:
        os.close(dst)


def _copy_data(src: int, dst: int, size: int) -> None:
    """Copy a whole file by descriptors (copy_file_range: reflinks where the fs can)."""
    offset = 0
    while True:
        try:
            n = os.copy_file_range(src, dst, max(size - offset, 1 << 20))
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            return copy_data_slow(src, dst)
        if n == 0:
            return None
        offset += n


def _copy_xattrs(src: int, dst: int) -> None:
    try:
        names = os.listxattr(src)
    except OSError:
        return
    for attr in names:
        if attr.startswith(_SKIP_XATTRS):
            continue
        try:
            os.setxattr(dst, attr, os.getxattr(src, attr))
        except OSError as exc:
            if exc.errno not in (errno.ENOTSUP, errno.EPERM, errno.EACCES):
                raise


def _set_meta(copier: Copier, tree: SourceTree, fd: int, st: os.stat_result, path: str) -> None:
    """Owner, then mode (chown clears setuid bits), then times: all by descriptor."""
    uid, gid = copier.owner(tree, st)
    os.fchown(fd, uid, gid)
    os.fchmod(fd, copier.mode(st))
    os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))


def _set_meta_path(copier: Copier, tree: SourceTree, opath_fd: int, st: os.stat_result) -> None:
    """Metadata of a FIFO/device through an O_PATH descriptor (never opened for I/O)."""
    proc = f"/proc/self/fd/{opath_fd}"
    uid, gid = copier.owner(tree, st)
    os.chown(proc, uid, gid)
    os.chmod(proc, copier.mode(st))
    os.utime(proc, ns=(st.st_atime_ns, st.st_mtime_ns))


def _link(copier: Copier, first: str, dst_dirfd: int, name: str, dst_path: str) -> None:
    try:
        src_parent, src_name = copier.root.open_parent(first)
    except OSError as exc:
        raise write_error(copier, dst_path, exc) from exc
    def link(tmp: str) -> None:
        os.link(src_name, tmp, src_dir_fd=src_parent, dst_dir_fd=dst_dirfd, follow_symlinks=False)

    try:
        replace_via_tmp(dst_dirfd, name, link)
    except OSError as exc:
        raise write_error(copier, dst_path, exc) from exc
    finally:
        os.close(src_parent)



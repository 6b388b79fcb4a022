"""Files hoist makes itself, written with COPY's destination rules: a heredoc
(``COPY <<EOF /dest``) or a file ``ADD <url>`` downloaded."""

from __future__ import annotations

import os
import posixpath

import msgspec

from hoist.builder.steps.copydest import (
    Copier,
    CopyOptions,
    copy_data_slow,
    destination_path,
    is_dir,
    prepare_parent,
    replace_via_tmp,
    write_error,
)
from hoist.fs.resolve import Root


class InlineFile(msgspec.Struct, frozen=True):
    """A file made by hoist (a heredoc, a downloaded URL): name, bytes source and metadata."""

    name: str
    mode: int = 0o644
    mtime_ns: int | None = None


def write_file(
    file: InlineFile,
    data_fd: int,
    dest: str,
    workdir: str,
    dest_root: Root,
    *,
    options: CopyOptions | None = None,
    as_dir: bool = False,
) -> str:
    """Write one file whose content is read from ``data_fd`` with COPY's destination rules.

    Used for heredoc sources (``COPY <<EOF /dest``) and ``ADD <url>``. Returns
    the in-rootfs path written.

    Raises:
        BuildError: the destination cannot be written.
    """
    options = options or CopyOptions()
    copier = Copier(dest_root, options, "")
    path, syntactic_dir = destination_path(dest, workdir)
    if syntactic_dir or as_dir or is_dir(copier, path):
        path = posixpath.join(path, file.name)
    parent_fd, name = prepare_parent(copier, path)
    try:
        replace_via_tmp(
            parent_fd, name, lambda tmp: _write_inline(copier, file, data_fd, parent_fd, tmp)
        )
    except OSError as exc:
        raise write_error(copier, path, exc) from exc
    finally:
        os.close(parent_fd)
    return path


def _write_inline(
    copier: Copier, file: InlineFile, data_fd: int, parent_fd: int, tmp: str
) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600, dir_fd=parent_fd)
    try:
        copy_data_slow(data_fd, fd)
        uid, gid = copier.options.chown or (0, 0)
        os.fchown(fd, uid, gid)
        chmod = copier.options.chmod
        os.fchmod(fd, chmod.apply(file.mode, is_dir=False) if chmod else file.mode)
        if file.mtime_ns is not None:
            os.utime(fd, ns=(file.mtime_ns, file.mtime_ns))
    finally:
        os.close(fd)

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoist.builder.steps.add import AddOptions, add_into, add_url, check_add_source, is_git_source
from hoist.builder.steps.copydest import CopyOptions
from hoist.builder.steps.fetch import FetchError, url_file_name
from hoist.context.select import SourceTree, select_sources
from hoist.errors import UserInputError
from hoist.fs.resolve import Root
from tests.unit.builder.httpserver import BODIES, LAST_MODIFIED_EPOCH, serve
from tests.unit.context.trees import describe, make_tree

# COPY writes files owned by 0:0 (or --chown ids): that needs root.
pytestmark = pytest.mark.root


def tar_bytes(mode: str = "w", members: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in (members or {"dir/in.txt": b"inside", "top.txt": b"top"}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.uid, info.gid, info.mode = 7, 8, 0o640
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def roots(tmp_path: Path) -> Iterator[tuple[Path, SourceTree, Path, Root]]:
    ctx = make_tree(tmp_path / "ctx", {})
    rootfs = make_tree(tmp_path / "rootfs", {"keep/old": "old"})
    with Root(ctx) as croot, Root(rootfs) as droot:
        yield ctx, SourceTree(croot), rootfs, droot


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_local_archives_extracted_by_content(roots: tuple, mode: str) -> None:
    ctx, tree, rootfs, droot = roots
    (ctx / "weird-name.bin").write_bytes(tar_bytes(mode))
    add_into(select_sources(tree, ["weird-name.bin"]), "/keep", "/", droot)
    got = describe(rootfs)
    assert got["keep/old"] == "file 0644 0:0 old"  # merged, not replaced
    assert got["keep/top.txt"] == "file 0640 7:8 top"  # owners kept from the archive
    assert got["keep/dir/in.txt"] == "file 0640 7:8 inside"
    assert "keep/weird-name.bin" not in got


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"just text, named like an archive", "plain text"),
        (gzip.compress(b"not a tar stream at all" * 40), "gzip of non-tar data"),
        (b"", "empty file"),
        (b"\0" * 1024, "empty tar (no header)"),
    ],
)
def test_not_quite_archives_are_copied_verbatim(roots: tuple, content: bytes, why: str) -> None:
    ctx, tree, rootfs, droot = roots
    (ctx / "x.tar.gz").write_bytes(content)
    add_into(select_sources(tree, ["x.tar.gz"]), "/d/", "/", droot)
    assert (rootfs / "d" / "x.tar.gz").read_bytes() == content, why


def test_unpack_false_copies_archives(roots: tuple) -> None:
    ctx, tree, rootfs, droot = roots
    data = tar_bytes("w:gz")
    (ctx / "a.tgz").write_bytes(data)
    add_into(select_sources(tree, ["a.tgz"]), "/d/", "/", droot, add=AddOptions(unpack=False))
    assert (rootfs / "d" / "a.tgz").read_bytes() == data


def test_archive_and_file_together(roots: tuple) -> None:
    ctx, tree, rootfs, droot = roots
    (ctx / "a.tar").write_bytes(tar_bytes())
    (ctx / "note").write_text("n")
    add_into(select_sources(tree, ["a.tar", "note"]), "/both/", "/", droot)
    assert sorted(os.listdir(rootfs / "both")) == ["dir", "note", "top.txt"]


@pytest.mark.root
def test_archive_with_chown_owns_every_entry(roots: tuple) -> None:
    # BuildKit >= 0.23 (moby/buildkit#5987): --chown applies to the extracted entries too
    ctx, tree, rootfs, droot = roots
    (ctx / "a.tar").write_bytes(tar_bytes())
    opts = CopyOptions(chown=(3, 4))
    add_into(select_sources(tree, ["a.tar"]), "/new/dir", "/", droot, options=opts)
    got = describe(rootfs)
    assert got["new/dir"] == "dir 0755 3:4"
    assert got["new/dir/top.txt"] == "file 0640 3:4 top"
    assert got["new/dir/dir/in.txt"] == "file 0640 3:4 inside"


def test_url_download(roots: tuple) -> None:
    _, _, rootfs, droot = roots
    with serve() as base:
        result = add_url(f"{base}/dir/file.txt", "/dl/", "/", droot)
    body = BODIES["/dir/file.txt"]
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    assert result.name == "file.txt" and result.size == len(body)
    st = os.stat(rootfs / "dl" / "file.txt")
    assert describe(rootfs)["dl/file.txt"] == f"file 0600 0:0 {body.decode()}"
    assert st.st_mtime == LAST_MODIFIED_EPOCH


def test_url_to_file_path_with_chmod_and_chown(roots: tuple) -> None:
    from hoist.builder.steps.owner import parse_chmod

    _, _, rootfs, droot = roots
    opts = CopyOptions(chown=(5, 5), chmod=parse_chmod("644"))
    with serve() as base:
        add_url(f"{base}/dir/file.txt", "/opt/renamed", "/", droot, options=opts)
    assert describe(rootfs)["opt/renamed"].startswith("file 0644 5:5 hello")


def test_remote_archive_not_extracted_unless_unpack(roots: tuple) -> None:
    _, _, rootfs, droot = roots
    with serve() as base:
        add_url(f"{base}/a.tar.gz", "/r/", "/", droot)
        add_url(f"{base}/a.tar.gz", "/u/", "/", droot, add=AddOptions(unpack=True))
    assert (rootfs / "r" / "a.tar.gz").read_bytes() == BODIES["/a.tar.gz"]
    assert (rootfs / "u" / "inside.txt").read_text() == "from the archive"


def test_checksum_verified(roots: tuple) -> None:
    _, _, rootfs, droot = roots
    good = "sha256:" + hashlib.sha256(BODIES["/dir/file.txt"]).hexdigest()
    with serve() as base:
        add_url(f"{base}/dir/file.txt", "/ok", "/", droot, add=AddOptions(checksum=good))
        with pytest.raises(FetchError, match="checksum mismatch"):
            add_url(
                f"{base}/dir/file.txt",
                "/bad",
                "/",
                droot,
                add=AddOptions(checksum="sha256:" + "0" * 64),
            )
        with pytest.raises(FetchError, match="unsupported checksum"):
            add_url(f"{base}/dir/file.txt", "/bad", "/", droot, add=AddOptions(checksum="md5:x"))
    assert (rootfs / "ok").exists()
    assert not (rootfs / "bad").exists()


def test_http_error_status(roots: tuple) -> None:
    _, _, _, droot = roots
    with serve() as base, pytest.raises(FetchError, match="404"):
        add_url(f"{base}/missing", "/x", "/", droot)


@pytest.mark.parametrize(
    "source",
    [
        "git@github.com:moby/moby.git",
        "git://example.com/r",
        "https://example.com/r.git",
        "https://example.com/r.git#main",
    ],
)
def test_git_sources_not_supported(source: str) -> None:
    assert is_git_source(source)
    with pytest.raises(UserInputError, match=r"git sources are not supported yet") as info:
        check_add_source(source, "Dockerfile:5")
    assert "Dockerfile:5" in str(info.value)


def test_other_schemes_rejected() -> None:
    with pytest.raises(UserInputError, match="only http and https"):
        check_add_source("ftp://example.com/x")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://h/a/b.txt", "b.txt"),
        ("http://h/a/b.txt?x=1#frag", "b.txt"),
        ("http://h/", "index.html"),
        ("http://h", "index.html"),
        ("http://h/%2e%2e", "index.html"),
        ("http://h/a/..", "index.html"),
        ("http://h/x%2Fy", "y"),
        ("http://h/with%20space", "with space"),
    ],
)
def test_url_file_name(url: str, name: str) -> None:
    assert url_file_name(url) == name

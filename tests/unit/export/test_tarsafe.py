"""Entry-name checks and header sanity while reading archives."""

from __future__ import annotations

import io
import tarfile

import pytest

from hoist.errors import ArchiveError
from hoist.export.sources import TarSource
from hoist.export.tarsafe import clean_name, iter_members


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("a/b", "a/b"),
        ("./a//b/", "a/b"),
        ("a/./b", "a/b"),
        ("..gitme", "..gitme"),
        ("a/...", "a/..."),
    ],
)
def test_clean_names(name: str, clean: str) -> None:
    assert clean_name(name, "x.tar") == clean


@pytest.mark.parametrize("name", ["../x", "a/../../x", "a/..", "/etc/passwd", "/../victim", ".."])
def test_escaping_names_are_errors_naming_the_entry(name: str) -> None:
    with pytest.raises(ArchiveError, match=r"x\.tar.*" + repr(name).replace(".", r"\.")):
        clean_name(name, "x.tar")


def _tar(*entries: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_iter_members_rejects_hardlinks_out() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        link = tarfile.TarInfo("grab")
        link.type, link.linkname = tarfile.LNKTYPE, "../../etc/passwd"
        tar.addfile(link)
    buf.seek(0)
    with tarfile.open(fileobj=buf, mode="r:") as tar, pytest.raises(ArchiveError, match="passwd"):
        list(iter_members(tar, "l.tar"))


def test_tar_source_reads_members_and_follows_inner_symlinks_only() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("a/file")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
        for name, target in (("b/link", "../a/file"), ("b/out", "../../outside")):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, target
            tar.addfile(link)
    buf.seek(0)
    source = TarSource(buf, "s.tar")
    assert source.read_small("b/link") == b"hello"
    assert not source.exists("nope")
    with pytest.raises(ArchiveError, match="outside"):
        source.exists("b/out")
    with pytest.raises(ArchiveError, match="larger than"):
        source.read_small("a/file", limit=2)


def test_tar_source_detects_data_running_past_the_end() -> None:
    data = _tar(("big", b"x" * 5000))
    with pytest.raises(ArchiveError, match="truncated"):
        TarSource(io.BytesIO(data[:3000]), "t.tar")

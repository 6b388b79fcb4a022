"""The tar writer's own ustar headers are byte for byte tarfile's, and it defers to
tarfile whenever a PAX record is needed."""

from __future__ import annotations

import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hoist.layer.tarwriter import ustar_header

TYPES = [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE,
         tarfile.BLKTYPE, tarfile.FIFOTYPE]  # fmt: skip


def make(name: str, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.uname = info.gname = ""
    info.mode = 0o644
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def tarfile_bytes(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


names = st.text(st.characters(min_codepoint=1, max_codepoint=0x7F), min_size=1, max_size=110)
numbers = st.integers(min_value=0, max_value=8**12)


@settings(max_examples=400, deadline=None)
@given(
    name=names,
    link=st.one_of(st.just(""), names),
    kind=st.sampled_from(TYPES),
    mode=st.integers(0, 0o7777),
    uid=numbers,
    gid=numbers,
    size=numbers,
    mtime=st.one_of(numbers, st.integers(-(2**40), -1)),
    major=st.integers(0, 8**8),
    minor=st.integers(0, 8**8),
)
def test_same_bytes_as_tarfile_or_deferred(
    name: str, link: str, kind: bytes, mode: int, uid: int, gid: int, size: int, mtime: int,
    major: int, minor: int,
) -> None:  # fmt: skip
    if kind == tarfile.DIRTYPE:
        name = name.rstrip("/") + "/"
    info = make(name, type=kind, linkname=link, mode=mode, uid=uid, gid=gid, size=size,
                mtime=mtime, devmajor=major, devminor=minor)  # fmt: skip
    ours = ustar_header(info)
    try:
        theirs = tarfile_bytes(info)
    except ValueError:  # tarfile refuses (a device number too large): so must we
        assert ours is None
        return
    if len(theirs) == 512:  # no PAX record: ours must be identical
        assert ours == theirs
    else:
        assert ours is None


@pytest.mark.parametrize(
    ("info", "fast"),
    [
        (make("a" * 100), True),
        (make("a" * 101), False),
        (make("caf\u00e9"), False),
        (make("x", linkname="t" * 100, type=tarfile.SYMTYPE), True),
        (make("x", linkname="t" * 101, type=tarfile.SYMTYPE), False),
        (make("x", uid=8**7 - 1, gid=8**7 - 1), True),
        (make("x", uid=8**7), False),
        (make("x", size=8**11 - 1, mtime=8**11 - 1), True),
        (make("x", size=8**11), False),
        (make("x", mtime=-1), False),
        (make("x", mtime=1.5), False),
        (make("x", pax_headers={"SCHILY.xattr.user.a": "b"}), False),
        (make("x", uname="root"), False),
        (make("d", type=tarfile.DIRTYPE), False),  # tarfile adds the slash
        (make("d/", type=tarfile.DIRTYPE), True),
        (make("dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3), True),
    ],
)
def test_edges(info: tarfile.TarInfo, fast: bool) -> None:
    ours = ustar_header(info)
    assert (ours is not None) == fast
    if fast:
        assert ours == tarfile_bytes(info)
    round_trip = tarfile.TarInfo.frombuf(tarfile_bytes(info)[-512:], "utf-8", "surrogateescape")
    assert round_trip.type == info.type

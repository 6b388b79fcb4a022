from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from hoist.errors import LayerError
from hoist.layer.changes import Change, ChangeSet, Kind
from hoist.layer.tarwriter import source_date_epoch_from_env, write_layer, write_tree

# A VFS capability (v2) granting cap_net_raw, as setcap writes it.
CAPABILITY = bytes.fromhex("0100000200200000000000000000000000000000")


def _tree(base: Path) -> Path:
    root = base / "tree"
    (root / "etc" / "sub").mkdir(parents=True)
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
    (root / "bin").mkdir()
    tool = root / "bin" / "tool"
    tool.write_bytes(os.urandom(3000))
    os.chmod(tool, 0o4755)
    os.link(tool, root / "bin" / "tool2")
    os.symlink("../etc/hosts", root / "bin" / "hosts-link")
    os.setxattr(root / "etc" / "hosts", "user.note", b"\xff\x00binary")
    for path in root.rglob("*"):
        os.utime(path, (1_700_000_000.5, 1_700_000_000.5), follow_symlinks=False)
    return root


def _members(blob: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tf:
        return tf.getmembers()


def _write(root: Path, **kwargs: int) -> tuple[bytes, object]:
    out = io.BytesIO()
    digest = write_tree(str(root), out, **kwargs)
    return out.getvalue(), digest


def test_diff_id_is_sha256_of_the_bytes_written(tmp_path: Path) -> None:
    blob, digest = _write(_tree(tmp_path))
    assert str(digest.diff_id) == "sha256:" + hashlib.sha256(blob).hexdigest()  # type: ignore[attr-defined]
    assert digest.size == len(blob)  # type: ignore[attr-defined]
    assert blob.endswith(bytes(1024))
    assert len(blob) % 512 == 0


def test_same_tree_gives_same_diff_id(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    first, d1 = _write(root)
    os.utime(root / "etc" / "hosts")  # atime/ctime changes must not matter
    os.utime(root / "etc" / "hosts", (1, 1_700_000_000.5))
    second, d2 = _write(root)
    assert first == second and d1 == d2


def test_entries_are_sorted_pax_numeric_owner(tmp_path: Path) -> None:
    blob, _ = _write(_tree(tmp_path))
    members = _members(blob)
    names = [m.name for m in members]
    assert names == [
        "bin", "bin/hosts-link", "bin/tool", "bin/tool2", "etc", "etc/hosts", "etc/sub",
    ]
    assert all(m.uname == "" and m.gname == "" for m in members)
    assert blob[257:263] == b"ustar\x00"
    by_name = {m.name: m for m in members}
    assert by_name["bin/tool"].mode == 0o4755
    assert by_name["bin/tool2"].islnk() and by_name["bin/tool2"].linkname == "bin/tool"
    assert by_name["bin/hosts-link"].linkname == "../etc/hosts"
    assert by_name["etc/hosts"].mtime == 1_700_000_000


def test_binary_xattrs_survive(tmp_path: Path) -> None:
    blob, _ = _write(_tree(tmp_path))
    hosts = {m.name: m for m in _members(blob)}["etc/hosts"]
    value = hosts.pax_headers["SCHILY.xattr.user.note"]
    assert value.encode("utf-8", "surrogateescape") == b"\xff\x00binary"


@pytest.mark.root
def test_capability_and_devices(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    os.setxattr(root / "bin" / "tool", "security.capability", CAPABILITY)
    os.mknod(root / "null", 0o666 | 0o020000, os.makedev(1, 3))
    os.mkfifo(root / "fifo", 0o600)
    os.chown(root / "etc" / "hosts", 4_000_000, 70_000)
    by_name = {m.name: m for m in _members(_write(root)[0])}
    cap = by_name["bin/tool"].pax_headers["SCHILY.xattr.security.capability"]
    assert cap.encode("utf-8", "surrogateescape") == CAPABILITY
    null = by_name["null"]
    assert null.ischr() and (null.devmajor, null.devminor) == (1, 3)
    assert by_name["fifo"].isfifo()
    assert (by_name["etc/hosts"].uid, by_name["etc/hosts"].gid) == (4_000_000, 70_000)


def test_source_date_epoch_clamps_only_newer(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    os.utime(root / "etc" / "sub", (1_000, 1_000))
    members = {m.name: m for m in _members(_write(root, source_date_epoch=1_600_000_000)[0])}
    assert members["etc/hosts"].mtime == 1_600_000_000
    assert members["etc/sub"].mtime == 1_000


def test_whiteouts_and_opaque_markers(tmp_path: Path) -> None:
    root = tmp_path / "upper"
    (root / "d").mkdir(parents=True)
    changes = ChangeSet(str(root), (
        Change("d", Kind.ADD, opaque=True),
        Change("d/gone", Kind.DELETE),
        Change("top", Kind.DELETE),
    ))
    out = io.BytesIO()
    write_layer(changes, out)
    names = [m.name for m in _members(out.getvalue())]
    assert names == ["d", "d/.wh..wh..opq", "d/.wh.gone", ".wh.top"]


def test_vanished_entry_is_a_layer_error(tmp_path: Path) -> None:
    changes = ChangeSet(str(tmp_path), (Change("nope", Kind.ADD),))
    with pytest.raises(LayerError, match="writing layer entry nope"):
        write_layer(changes, io.BytesIO())


@pytest.mark.parametrize(("value", "expected"), [("", None), ("0", 0), ("1700000000", 1700000000)])
def test_source_date_epoch_from_env(value: str, expected: int | None) -> None:
    assert source_date_epoch_from_env({"SOURCE_DATE_EPOCH": value}) == expected


def test_bad_source_date_epoch() -> None:
    with pytest.raises(LayerError, match="SOURCE_DATE_EPOCH"):
        source_date_epoch_from_env({"SOURCE_DATE_EPOCH": "-5"})


def test_empty_layer_has_dockers_empty_diff_id(tmp_path: Path) -> None:
    out = io.BytesIO()
    digest = write_layer(ChangeSet(str(tmp_path), ()), out)
    assert out.getvalue() == bytes(1024)
    expected = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
    assert str(digest.diff_id) == expected


def test_odd_names_round_trip_through_apply(tmp_path: Path) -> None:
    from hoist.layer.apply import apply_layer

    root = tmp_path / "odd"
    root.mkdir()
    names = [b"new\nline", b"latin1-\xe9", "ünïcode".encode(), b"n" * 255, b"sp ace"]
    for name in names:
        with open(os.path.join(os.fsencode(root), name), "wb") as f:
            f.write(name)
    deep = root / ("d" * 120) / ("e" * 120)
    deep.mkdir(parents=True)
    os.symlink("t" * 300, deep / "long-target")
    first = io.BytesIO()
    digest = write_tree(str(root), first)
    first.seek(0)
    apply_layer(first, str(tmp_path / "out"), whiteout_format="remove")
    out = os.fsencode(tmp_path / "out")
    assert sorted(os.listdir(out)) == sorted([*names, b"d" * 120])
    for name in names:
        with open(os.path.join(out, name), "rb") as f:
            assert f.read() == name
    assert os.readlink(tmp_path / "out" / ("d" * 120) / ("e" * 120) / "long-target") == "t" * 300
    again = io.BytesIO()
    assert write_tree(str(tmp_path / "out"), again).diff_id == digest.diff_id


@pytest.mark.parametrize("size", [(8 << 20) - 1, 8 << 20, (19 << 20) + 12345])
def test_big_files_hashed_on_a_helper_thread_give_the_same_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    import hoist.layer.tarwriter as tarwriter

    root = tmp_path / "tree"
    root.mkdir()
    data = os.urandom(size)
    (root / "big.bin").write_bytes(data)
    (root / "small").write_text("after the big one\n")
    blob, digest = _write(root)
    assert str(digest.diff_id) == "sha256:" + hashlib.sha256(blob).hexdigest()  # type: ignore[attr-defined]
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tf:
        big = tf.extractfile("big.bin")
        assert big is not None and big.read() == data
    monkeypatch.setattr(tarwriter, "_PIPELINE_MIN", 1 << 62)  # every file the plain way
    assert _write(root) == (blob, digest)


def test_big_file_that_shrinks_while_read_is_a_layer_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "big.bin").write_bytes(bytes(9 << 20))
    real_readv = os.readv
    calls = []

    def shrinking(fd: int, buffers: list[memoryview]) -> int:
        calls.append(fd)
        return 0 if len(calls) > 3 else real_readv(fd, buffers)

    monkeypatch.setattr(os, "readv", shrinking)
    with pytest.raises(LayerError, match=r"big\.bin: file shrank while read"):
        _write(root)


def test_plain_files_take_the_short_path_with_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hoist.layer import tarwriter

    root = tmp_path / "tree"
    (root / "pkg" / "lib").mkdir(parents=True)
    for i in range(30):
        (root / "pkg" / "lib" / f"f{i}.js").write_bytes(b"x" * (i * 37))
    (root / "pkg" / "big").write_bytes(os.urandom(3 << 20))  # above the short path's limit
    (root / "pkg" / "linked").write_text("same")
    os.link(root / "pkg" / "linked", root / "pkg" / "lib" / "linked-too")
    os.setxattr(root / "pkg" / "lib" / "f3.js", "user.note", b"kept")
    (root / ("n" * 99)).write_text("long name")
    short = io.BytesIO()
    calls = []
    plain = tarwriter._TarWriter.plain_file

    def counting(self: object, root_: object, path: str) -> bool:
        done = plain(self, root_, path)  # type: ignore[arg-type]
        calls.append((path, done))
        return done

    monkeypatch.setattr(tarwriter._TarWriter, "plain_file", counting)
    write_tree(str(root), short)
    took = {path for path, done in calls if done}
    assert "pkg/lib/f0.js" in took and "pkg/lib/f29.js" in took
    assert not took & {"pkg/big", "pkg/linked", "pkg/lib/linked-too", "pkg/lib/f3.js", "pkg"}
    monkeypatch.setattr(tarwriter._TarWriter, "plain_file", lambda *a: False)
    general = io.BytesIO()
    write_tree(str(root), general)
    assert short.getvalue() == general.getvalue()

"""SECURITY.md A1, A2, A6: the build context is read only inside its root."""

from __future__ import annotations

import os
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.context.trees import describe, fingerprint, make_tree

from hoist.builder.steps.copy import copy_into
from hoist.context.checksum import MemoryChecksumCache, selection_checksum
from hoist.context.ignore import load_ignore
from hoist.context.select import SourceTree, select_sources
from hoist.errors import ContextError
from hoist.fs.resolve import HAVE_OPENAT2, Root

# COPY writes files owned by 0:0 (or --chown ids): that needs root.
pytestmark = pytest.mark.root


SECRET = "TOP-SECRET-OUTSIDE-THE-CONTEXT"


@pytest.fixture(params=[False, True] if HAVE_OPENAT2 else [False], ids=["manual", "openat2"][:2])
def use_openat2(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail instead of hanging forever (a FIFO opened for reading would block)."""

    def boom(signum: int, frame: object) -> None:
        raise TimeoutError("hung: something blocked (a FIFO opened?)")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def build(tmp_path: Path, patterns: list[str], use_openat2: bool, dest: str = "/x") -> Path:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir(exist_ok=True)
    with Root(tmp_path / "ctx", use_openat2=use_openat2) as croot, Root(rootfs) as droot:
        tree = SourceTree(croot)
        sources = select_sources(tree, patterns, where="Dockerfile:2")
        selection_checksum(sources, MemoryChecksumCache())
        copy_into(sources, dest, "/", droot)
    return rootfs


def all_bytes(base: Path) -> bytes:
    out = b""
    for dirpath, _, files in os.walk(base):
        for name in files:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                out += path.read_bytes()
    return out


# --- A1 ------------------------------------------------------------------------------------


def test_a1_symlink_to_host_dir_is_not_followed(tmp_path: Path, use_openat2: bool) -> None:
    victim = make_tree(tmp_path / "victim", {"passwd": SECRET})
    make_tree(tmp_path / "ctx", {"evil": ("link", str(victim)), "etc-evil": ("link", "/etc")})
    for pattern in ("evil/passwd", "etc-evil/passwd", "evil", "evil/*"):
        with pytest.raises(ContextError, match="not found") as info:
            build(tmp_path, [pattern], use_openat2)
        assert pattern in str(info.value) and "Dockerfile:2" in str(info.value)
    assert not (tmp_path / "rootfs" / "x").exists()


def test_a1_symlink_resolves_inside_the_context(tmp_path: Path, use_openat2: bool) -> None:
    victim = make_tree(tmp_path / "victim", {"passwd": SECRET})
    inside = str(victim).lstrip("/") + "/passwd"
    make_tree(tmp_path / "ctx", {"evil": ("link", str(victim)), inside: "inside copy"})
    rootfs = build(tmp_path, ["evil/passwd"], use_openat2)
    assert (rootfs / "x").read_text() == "inside copy"


# --- A2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern", ["../secret", "../../secret", "/../../secret", "a/../../secret"]
)
def test_a2_dotdot_never_leaves_the_context(
    tmp_path: Path, use_openat2: bool, pattern: str
) -> None:
    (tmp_path / "secret").write_text(SECRET)
    make_tree(tmp_path / "ctx", {"a/file": "a"})
    with pytest.raises(ContextError, match="not found"):
        build(tmp_path, [pattern], use_openat2)
    # BuildKit's rule: ".." is clamped at the root, so an in-context "secret" is what it names
    (tmp_path / "ctx" / "secret").write_text("in-context")
    rootfs = build(tmp_path, [pattern], use_openat2)
    assert (rootfs / "x").read_text() == "in-context"


def test_a2_parent_of_context_is_the_context(tmp_path: Path, use_openat2: bool) -> None:
    (tmp_path / "secret").write_text(SECRET)
    make_tree(tmp_path / "ctx", {"a/file": "a", "b": "b"})
    with Root(tmp_path / "ctx", use_openat2=use_openat2) as croot:
        tree = SourceTree(croot)
        cache = MemoryChecksumCache()
        clamped = selection_checksum(select_sources(tree, ["../../"]), cache)
        assert clamped == selection_checksum(select_sources(tree, ["."]), cache)
    rootfs = build(tmp_path, ["../../"], use_openat2, dest="/x/")
    assert SECRET.encode() not in all_bytes(rootfs)
    assert sorted(os.listdir(rootfs / "x")) == ["a", "b"]


# --- A6 ------------------------------------------------------------------------------------


def test_a6_hostile_context_contents(tmp_path: Path, use_openat2: bool, alarm: None) -> None:
    ctx = make_tree(
        tmp_path / "ctx",
        {"d/fifo": ("fifo",), "d/..gitme": "dots", "d/new\nline": "nl", "d/zero": ("file", "z", 0)},
    )
    os.mkdir(os.fsencode(ctx / "d") + b"/\xff\xfe-dir")
    (Path(os.fsdecode(os.fsencode(ctx / "d") + b"/\xff\xfe-dir")) / "f").write_text("bytes")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ctx / "d" / "sock"))
    try:
        rootfs = build(tmp_path, ["d"], use_openat2)
    finally:
        sock.close()
    got = describe(rootfs / "x")
    assert got["fifo"] == "fifo 0644 0:0"
    assert got["..gitme"] == "file 0644 0:0 dots"
    assert got["new\nline"] == "file 0644 0:0 nl"
    assert got["zero"] == "file 0000 0:0 z"
    assert got[os.fsdecode(b"\xff\xfe-dir/f")] == "file 0644 0:0 bytes"
    assert "sock" not in got


@pytest.mark.root
def test_a6_char_device_recreated_as_root(tmp_path: Path, use_openat2: bool) -> None:
    ctx = make_tree(tmp_path / "ctx", {"d/f": "f"})
    os.mknod(ctx / "d" / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    rootfs = build(tmp_path, ["d"], use_openat2)
    st = os.lstat(rootfs / "x" / "null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)


def test_a6_unreadable_file_named(
    tmp_path: Path, use_openat2: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path / "ctx", {"d/secret.key": "k", "d/ok": "o"})
    real_open = os.open

    def deny(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if path == "secret.key" and not flags & os.O_PATH:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(ContextError, match=r"'d/secret.key'.*Permission denied"):
        build(tmp_path, ["d"], use_openat2)


def test_a6_bad_ignore_pattern_is_an_error(tmp_path: Path) -> None:
    make_tree(tmp_path / "ctx", {".dockerignore": "[\n", "f": "f"})
    with pytest.raises(ContextError):
        load_ignore(tmp_path / "ctx")


def test_a6_many_files(tmp_path: Path, use_openat2: bool) -> None:
    ctx = tmp_path / "ctx"
    # SECURITY.md says 200k; 2k keeps the suite fast and still walks many directories.
    for d in range(20):
        sub = ctx / "many" / f"d{d:02}"
        sub.mkdir(parents=True)
        for i in range(100):
            (sub / f"f{i}").write_bytes(b"x")
    rootfs = build(tmp_path, ["many"], use_openat2)
    assert sum(len(files) for _, _, files in os.walk(rootfs / "x")) == 2_000


def test_a1_victim_untouched_by_whole_flow(tmp_path: Path, use_openat2: bool) -> None:
    victim = make_tree(tmp_path / "victim", {"hello": SECRET, "sub/x": "x"})
    before = fingerprint(victim)
    make_tree(
        tmp_path / "ctx",
        {
            "l1": ("link", str(victim)),
            "l2": ("link", "../victim"),
            "d/l3": ("link", "../../victim"),
        },
    )
    for escaping in ("l1", "l2", "l1/hello", "l2/sub/x", "d/l3/hello"):
        with pytest.raises(ContextError, match="not found"):
            build(tmp_path, [escaping], use_openat2)
    rootfs = build(tmp_path, ["d"], use_openat2, dest="/x/")
    assert os.readlink(rootfs / "x" / "l3") == "../../victim"
    assert fingerprint(victim) == before
    assert SECRET.encode() not in all_bytes(rootfs)

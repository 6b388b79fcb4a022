from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoist.fs.resolve import HAVE_OPENAT2, DirSpec, Root

MODES = [False, True] if HAVE_OPENAT2 else [False]


@pytest.fixture(params=MODES, ids=lambda v: "openat2" if v else "manual")
def tree(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Root, Path, Path]]:
    """A rootfs full of hostile links next to a victim directory outside it."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "hello").write_text("victim")
    rootfs = tmp_path / "rootfs"
    (rootfs / "tmp" / "symlink-target").mkdir(parents=True)
    (rootfs / "run").mkdir()
    (rootfs / "var").mkdir()
    (rootfs / "etc").mkdir()
    (rootfs / "etc" / "passwd").write_text("root-inside")
    (rootfs / "file").write_text("f")
    os.symlink("../tmp/symlink-target", rootfs / "symlink")
    os.symlink("/run", rootfs / "var" / "run")
    os.symlink("..", rootfs / "escape")
    os.symlink("/victim", rootfs / "absolute")
    os.symlink("../../victim/hello", rootfs / "up")
    os.symlink("/etc/passwd", rootfs / "passwd-link")
    os.symlink("loop2", rootfs / "loop1")
    os.symlink("loop1", rootfs / "loop2")
    os.symlink("missing/x", rootfs / "dangling")
    with Root(rootfs, use_openat2=request.param) as root:
        yield root, rootfs, victim


def _read(root: Root, rel: str) -> str:
    fd = root.open(rel)
    try:
        return os.read(fd, 100).decode()
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("symlink", "/tmp/symlink-target"),
        ("/symlink/", "/tmp/symlink-target"),
        ("var/run/x", "/run/x"),
        ("../../../etc", "/etc"),
        ("escape/escape/etc/passwd", "/etc/passwd"),
        ("absolute/hello", "/victim/hello"),
        ("up", "/victim/hello"),
        ("passwd-link", "/etc/passwd"),
        ("dangling", "/missing/x"),
        ("nope/a/../b", "/nope/b"),
        ("", "/"),
        ("/..", "/"),
    ],
)
def test_resolve_clamps_to_root(tree: tuple[Root, Path, Path], rel: str, expected: str) -> None:
    root, _, _ = tree
    assert root.resolve(rel) == expected


def test_resolve_without_following_final(tree: tuple[Root, Path, Path]) -> None:
    root, _, _ = tree
    assert root.resolve("var/run", follow_final=False) == "/var/run"


def test_open_follows_links_inside_root_only(tree: tuple[Root, Path, Path]) -> None:
    root, _, _ = tree
    assert _read(root, "passwd-link") == "root-inside"
    assert _read(root, "escape/../../etc/passwd") == "root-inside"
    with pytest.raises(FileNotFoundError):
        root.open("up")
    with pytest.raises(FileNotFoundError):
        root.open("absolute/hello")


def test_symlink_loop_is_eloop(tree: tuple[Root, Path, Path]) -> None:
    root, _, _ = tree
    with pytest.raises(OSError) as info:
        root.open("loop1")
    assert info.value.errno == errno.ELOOP


def test_final_symlink_not_followed_when_asked(tree: tuple[Root, Path, Path]) -> None:
    root, _, _ = tree
    with pytest.raises(OSError) as info:
        root.open("passwd-link", follow_final=False)
    assert info.value.errno == errno.ELOOP
    fd = root.open("passwd-link", os.O_PATH, follow_final=False)
    os.close(fd)


def test_create_through_links_lands_inside(tree: tuple[Root, Path, Path]) -> None:
    root, rootfs, victim = tree
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    with pytest.raises(FileNotFoundError):  # /victim does not exist inside the root
        root.open("absolute/pwned", flags, 0o600)
    os.mkdir(rootfs / "victim")
    for rel in ("symlink/foo", "var/run/x", "absolute/pwned", "escape/escape/y"):
        os.close(root.open(rel, flags, 0o600))
    assert (rootfs / "tmp/symlink-target/foo").is_file()
    assert (rootfs / "run/x").is_file()
    assert (rootfs / "y").is_file()
    assert (rootfs / "victim/pwned").is_file()
    assert sorted(os.listdir(victim)) == ["hello"]


def test_dangling_symlink_create_lands_inside(tree: tuple[Root, Path, Path]) -> None:
    root, rootfs, _ = tree
    os.mkdir(rootfs / "missing")
    os.close(root.open("dangling", os.O_WRONLY | os.O_CREAT, 0o600))
    assert (rootfs / "missing" / "x").is_file()


def test_non_directory_in_middle_is_enotdir(tree: tuple[Root, Path, Path]) -> None:
    root, _, _ = tree
    with pytest.raises(NotADirectoryError):
        root.open("file/x")


def test_open_parent_does_not_touch_final(tree: tuple[Root, Path, Path]) -> None:
    root, rootfs, victim = tree
    dirfd, name = root.open_parent("var/run")
    try:
        assert name == "run"
        os.unlink(name, dir_fd=dirfd)
    finally:
        os.close(dirfd)
    assert not os.path.lexists(rootfs / "var" / "run")
    with pytest.raises(FileNotFoundError):
        root.open_parent("absolute/hello")
    assert (victim / "hello").read_text() == "victim"


@pytest.mark.parametrize("rel", ["", "/", "a/..", "."])
def test_open_parent_needs_a_final_name(tree: tuple[Root, Path, Path], rel: str) -> None:
    root, _, _ = tree
    with pytest.raises(OSError) as info:
        root.open_parent(rel)
    assert info.value.errno == errno.EINVAL


def test_mkdir_all_through_links_with_owner(tree: tuple[Root, Path, Path]) -> None:
    root, rootfs, victim = tree
    fd = root.mkdir_all("absolute/new/deeper", DirSpec(mode=0o750, uid=1234, gid=4321))
    os.close(fd)
    made = rootfs / "victim" / "new" / "deeper"
    assert made.is_dir()
    st = made.stat()
    assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o750, 1234, 4321)
    assert sorted(os.listdir(victim)) == ["hello"]
    os.close(root.mkdir_all("symlink"))  # an existing link to a dir is kept
    assert (rootfs / "symlink").is_symlink()
    with pytest.raises(NotADirectoryError):
        root.mkdir_all("file/sub")


def test_relative_escape_before_absolute_link(tree: tuple[Root, Path, Path]) -> None:
    # go-archive TestUnpackRejectsRelativeEscapeBeforeAbsoluteSymlink: stays inside.
    root, rootfs, victim = tree
    os.symlink("/target", rootfs / "abs2")
    os.close(root.mkdir_all("escape/abs2"))
    assert (rootfs / "target").is_dir()
    assert not (victim.parent / "target").exists()


def test_exists_and_lstat(tree: tuple[Root, Path, Path]) -> None:
    root, _, _ = tree
    assert root.exists("dangling")
    assert not root.exists("nope")
    assert not root.exists("file/x")
    assert root.lstat("symlink").st_size == len("../tmp/symlink-target")


def test_open_directory_with_nofollow(tree: tuple[Root, Path, Path]) -> None:
    # O_TMPFILE shares O_DIRECTORY's bit: a plain directory open must not pass a mode.
    root, _, _ = tree
    os.close(root.open("tmp/symlink-target", os.O_RDONLY | os.O_DIRECTORY, follow_final=False))
    os.close(root.open("symlink", os.O_RDONLY | os.O_DIRECTORY))


def test_subroot_is_confined_to_its_directory(tree: tuple[Root, Path, Path]) -> None:
    root, rootfs, _ = tree
    with root.subroot("var/run") as sub:  # var/run -> /run inside the root
        assert sub.path == str(rootfs / "run")
        os.close(sub.open("../../x", os.O_WRONLY | os.O_CREAT, 0o600))
    assert (rootfs / "run" / "x").is_file()


@pytest.mark.parametrize("rel", [".", "", "/", "etc/..", "escape"])
def test_open_root_itself_with_nofollow(tree: tuple[Root, Path, Path], rel: str) -> None:
    root, rootfs, _ = tree
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    if rel == "escape":  # a symlink as the final component is refused with O_NOFOLLOW
        with pytest.raises(OSError):
            root.open(rel, flags)
        return
    fd = root.open(rel, flags)
    try:
        assert os.fstat(fd).st_ino == os.stat(rootfs).st_ino
    finally:
        os.close(fd)


def test_swapping_and_moving_dirs_during_walks_never_escapes(tree: tuple[Root, Path, Path]) -> None:
    import threading

    root, rootfs, victim = tree
    outside = victim.parent / "outside"
    outside.mkdir()
    (rootfs / "x" / "y").mkdir(parents=True)
    stop = threading.Event()

    def attacker() -> None:
        while not stop.is_set():
            try:  # move a directory out of the root and back, and swap a dir for a link
                os.rename(rootfs / "x" / "y", outside / "y")
                os.rename(outside / "y", rootfs / "x" / "y")
                os.rename(rootfs / "x", rootfs / "x.real")
                os.symlink("../victim", rootfs / "x")
                os.unlink(rootfs / "x")
                os.rename(rootfs / "x.real", rootfs / "x")
            except OSError:
                pass

    thread = threading.Thread(target=attacker)
    thread.start()
    try:
        for i in range(1500):
            for rel in (f"x/y/../../../../p{i}", f"x/y/q{i}", f"x/r{i}"):
                try:
                    os.close(root.open(rel, os.O_WRONLY | os.O_CREAT, 0o600))
                except OSError:
                    pass
    finally:
        stop.set()
        thread.join()
    assert sorted(os.listdir(victim)) == ["hello"]
    assert all(name == "y" for name in os.listdir(outside))
    assert not any(n.startswith("p") for n in os.listdir(victim.parent))
    assert len([n for n in os.listdir(rootfs) if n.startswith("p")]) > 0

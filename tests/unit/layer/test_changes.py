from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hoist.errors import LayerError
from hoist.layer import changes as changes_module
from hoist.layer.changes import Change, overlay_changes, tree_changes


def _whiteout(path: Path) -> None:
    os.mknod(path, stat.S_IFCHR, os.makedev(0, 0))


def _same_times(*paths: Path) -> None:
    for p in paths:
        os.utime(p, (1_600_000_000, 1_600_000_000), follow_symlinks=False)


def _listing(changes: tuple[Change, ...]) -> list[tuple[str, str, bool]]:
    return [(c.path, c.kind.value, c.opaque) for c in changes]


def test_tree_changes_add_modify_delete(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        (root / "same" / "deep").mkdir(parents=True)
        (root / "same" / "deep" / "f").write_text("x")
        (root / "mod").write_text("before")
        (root / "chmod").write_text("c")
        _same_times(root / "same" / "deep" / "f", root / "same" / "deep", root / "same",
                    root / "mod", root / "chmod")
    (old / "gone").write_text("bye")
    (old / "gonedir").mkdir()
    (new / "mod").write_text("after!")
    os.chmod(new / "chmod", 0o600)
    (new / "added").mkdir()
    (new / "added" / "child").write_text("c")
    os.symlink("target", new / "link")
    got = _listing(tree_changes(str(old), str(new)).changes)
    assert got == [
        ("added", "add", False),
        ("added/child", "add", False),
        ("chmod", "add", False),
        ("gone", "delete", False),
        ("gonedir", "delete", False),
        ("link", "add", False),
        ("mod", "add", False),
    ]


def test_tree_changes_compare_content_when_mtime_has_no_fraction(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "f").write_text("aaaa")
    (new / "f").write_text("bbbb")
    _same_times(old / "f", new / "f")
    assert _listing(tree_changes(str(old), str(new)).changes) == [("f", "add", False)]


def test_tree_changes_type_change(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    (old / "x").mkdir(parents=True)
    (old / "x" / "inner").write_text("i")
    new.mkdir()
    (new / "x").write_text("now a file")
    assert _listing(tree_changes(str(old), str(new)).changes) == [("x", "add", False)]


@pytest.mark.root
def test_overlay_whiteouts_opaque_and_unchanged_parents(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc" / "conf.d").mkdir(parents=True)
    (lower / "etc" / "conf.d" / "a").write_text("a")
    (lower / "etc" / "passwd").write_text("root")
    (lower / "var").mkdir()
    (lower / "opq").mkdir()
    (lower / "opq" / "old").write_text("o")
    _same_times(lower / "etc", lower / "var")
    # upper: etc copied up unchanged (a child was modified), var chmodded,
    # passwd deleted, never-existing name whited out, opq made opaque.
    (upper / "etc" / "conf.d").mkdir(parents=True)
    os.setxattr(upper / "etc", "trusted.overlay.origin", b"\x00fake")
    (upper / "etc" / "conf.d" / "a").write_text("changed")
    _whiteout(upper / "etc" / "passwd")
    _whiteout(upper / "etc" / "never-existed")
    (upper / "var").mkdir()
    os.chmod(upper / "var", 0o700)
    (upper / "opq").mkdir()
    os.setxattr(upper / "opq", "trusted.overlay.opaque", b"y")
    (upper / "opq" / "new").write_text("n")
    _same_times(upper / "etc", upper / "var", upper / "opq")
    os.chmod(upper / "etc", os.stat(lower / "etc").st_mode & 0o7777)
    changes = overlay_changes(str(upper), [str(lower)]).changes
    assert _listing(changes) == [
        ("etc/conf.d", "add", False),  # its mtime differs from the lower's
        ("etc/conf.d/a", "add", False),
        ("etc/passwd", "delete", False),
        ("opq", "add", True),
        ("opq/new", "add", False),
        ("var", "add", False),
    ]


def test_below_an_opaque_dir_every_subdir_is_an_entry(tmp_path: Path) -> None:
    """The lowers' copy of a subdir is hidden by its opaque parent, however alike they look."""
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "opq" / "sub").mkdir(parents=True)
    (lower / "opq" / "sub" / "old").write_text("o")
    (upper / "opq" / "sub").mkdir(parents=True)
    os.setxattr(upper / "opq", "trusted.overlay.opaque", b"y")
    (upper / "opq" / "sub" / "new").write_text("n")
    _whiteout(upper / "opq" / "sub" / "old")  # nothing below an opaque dir to delete
    _same_times(lower / "opq" / "sub", upper / "opq" / "sub")
    os.chmod(upper / "opq" / "sub", os.stat(lower / "opq" / "sub").st_mode & 0o7777)
    changes = overlay_changes(str(upper), [str(lower)]).changes
    assert _listing(changes) == [
        ("opq", "add", True),
        ("opq/sub", "add", False),
        ("opq/sub/new", "add", False),
    ]


def test_a_new_tree_is_diffed_without_looking_at_the_lowers(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "usr").mkdir(parents=True)
    (upper / "usr" / "app" / "a" / "b").mkdir(parents=True)
    (upper / "usr" / "app" / "a" / "b" / "f").write_text("f")
    _same_times(lower / "usr", upper / "usr")
    os.chmod(upper / "usr", os.stat(lower / "usr").st_mode & 0o7777)
    lookups: list[str] = []
    real = changes_module._Lowers.lookup

    def counting(self: object, path: str) -> object:
        lookups.append(path)
        return real(self, path)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(changes_module._Lowers, "lookup", counting)
        changes = overlay_changes(str(upper), [str(lower)]).changes
    assert lookups == ["usr", "usr/app"]
    assert [c.path for c in changes] == ["usr/app", "usr/app/a", "usr/app/a/b", "usr/app/a/b/f"]


@pytest.mark.root
def test_overlay_lookup_respects_whiteouts_and_opaque_in_lowers(tmp_path: Path) -> None:
    bottom, middle, upper = tmp_path / "bottom", tmp_path / "middle", tmp_path / "upper"
    (bottom / "d").mkdir(parents=True)
    (bottom / "d" / "f").write_text("f")
    (bottom / "g").write_text("g")
    (middle / "d").mkdir(parents=True)
    os.setxattr(middle / "d", "trusted.overlay.opaque", b"y")
    _whiteout(middle / "g")
    (upper / "d").mkdir(parents=True)
    _whiteout(upper / "d" / "f")  # hidden by the opaque middle dir: nothing to delete
    _whiteout(upper / "g")  # already deleted by middle
    got = _listing(overlay_changes(str(upper), [str(middle), str(bottom)]).changes)
    assert ("d/f", "delete", False) not in got
    assert ("g", "delete", False) not in got


@pytest.mark.root
def test_overlay_redirect_is_refused(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    lower.mkdir()
    (upper / "moved").mkdir(parents=True)
    os.setxattr(upper / "moved", "trusted.overlay.redirect", b"/orig")
    with pytest.raises(LayerError, match="redirect_dir"):
        overlay_changes(str(upper), [str(lower)])


@pytest.mark.root
def test_overlay_metacopy_is_refused(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    lower.mkdir()
    upper.mkdir()
    (upper / "f").write_text("")
    os.setxattr(upper / "f", "trusted.overlay.metacopy", b"")
    with pytest.raises(LayerError, match="metacopy"):
        overlay_changes(str(upper), [str(lower)])
    # as overlayfs makes them: the lower file's size, no data blocks of its own
    (upper / "f").unlink()
    with open(upper / "g", "wb") as f:
        f.truncate(1 << 20)
    os.setxattr(upper / "g", "trusted.overlay.metacopy", b"")
    with pytest.raises(LayerError, match="metacopy"):
        overlay_changes(str(upper), [str(lower)])


def test_overlay_diff_walks_only_the_upper_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    for i in range(200):
        (lower / f"d{i}").mkdir(parents=True)
        (lower / f"d{i}" / "f").write_text("x")
    (upper / "d7").mkdir(parents=True)
    (upper / "d7" / "new").write_text("n")
    calls: list[object] = []
    real = os.scandir

    def counting(arg: object) -> object:
        calls.append(arg)
        return real(arg)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", counting)
    changes = overlay_changes(str(upper), [str(lower)]).changes
    assert [c.path for c in changes] == ["d7", "d7/new"]
    assert len(calls) == 2  # the upper root and d7: the 200 lower dirs are never listed

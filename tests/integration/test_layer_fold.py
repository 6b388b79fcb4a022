"""Folding overlay-form layer dirs means what the layers meant, checked against overlayfs itself.

Random stacks of layers (files, dirs, opaque dirs, whiteouts, symlinks, a file
replaced by a dir and back) are mounted twice: as they are, and with a run of
them folded into one dir by :func:`hoist.layer.flatten.merge_layers`
(``markers=True``), over a base layer below the fold. Both merged views must
be equal in every entry's type, mode, owner, content, target and mtime. The
copy snapshotter's merge (``markers=False``) of the whole stack must equal the
merged view too.
"""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pytest

from hoist.layer.flatten import merge_layers
from hoist.snapshot.mounts import mount_overlay_layers, unmount

pytestmark = pytest.mark.root

NAMES = ["a", "b", "a/x", "a/y", "a/x/deep", "b/z", "c", "c/k", "c/k/m"]


def _make_layer(directory: Path, rng: random.Random, tag: int) -> None:
    """A random overlay-form layer: parents are dirs, nothing below a non-dir."""
    directory.mkdir()
    chosen = sorted(rng.sample(NAMES, rng.randint(1, len(NAMES))), key=lambda p: p.count("/"))
    made: dict[str, str] = {}
    for path in chosen:
        parts = path.split("/")
        if any(made.get("/".join(parts[:i]), "dir") != "dir" for i in range(1, len(parts))):
            continue
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent not in made:
                (directory / parent).mkdir()
                made[parent] = "dir"
        kind = rng.choice(["file", "dir", "opaque", "whiteout", "link"])
        target = directory / path
        if kind == "file":
            target.write_text(f"{path} in layer {tag}")
            os.chmod(target, rng.choice([0o644, 0o600, 0o755]))
        elif kind in ("dir", "opaque"):
            target.mkdir()
            os.chmod(target, rng.choice([0o755, 0o700, 0o1777]))
            if kind == "opaque":
                os.setxattr(target, "trusted.overlay.opaque", b"y")
        elif kind == "whiteout":
            os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(0, 0))
        else:
            target.symlink_to(f"../{tag}")
        made[path] = "dir" if kind in ("dir", "opaque") else kind
    for path in sorted(made, key=lambda p: -p.count("/")):
        if made[path] == "dir":
            os.utime(directory / path, (1_600_000_000 + tag, 1_600_000_000 + tag))


def _full_layer(directory: Path) -> None:
    """A base that shows every name, so whiteouts and opaque dirs above it hide something."""
    for d in ("a/x", "b", "c/k"):
        (directory / d).mkdir(parents=True)
    for f in ("a/x/deep", "a/y", "b/z", "c/k/m"):
        (directory / f).write_text(f"{f} in the base")


def _view(root: Path) -> dict[str, tuple[object, ...]]:
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                # overlay lists a whiteout that hides nothing in a dir only one layer has
                # (a readdir phantom, not an entry): lookups are what is compared
                continue
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                extra: object = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                extra = path.read_text()
            else:
                extra = st.st_mtime_ns
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, extra)
    return out


def _mounted_view(tmp: Path, name: str, lowers: list[Path]) -> dict[str, tuple[object, ...]]:
    d = tmp / name
    for sub in ("upper", "work", "merged"):
        (d / sub).mkdir(parents=True)
    options = {"upperdir": str(d / "upper"), "workdir": str(d / "work"),
               "index": "off", "redirect_dir": "off", "metacopy": "off"}
    assert mount_overlay_layers(d / "merged", [str(p) for p in reversed(lowers)], options)
    try:
        return _view(d / "merged")
    finally:
        unmount(d / "merged")


@pytest.mark.parametrize("seed", range(40))
def test_a_folded_run_of_layers_shows_what_the_layers_showed(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    _full_layer(tmp_path / "l0")
    layers = [tmp_path / "l0"]
    for i in range(1, 6):
        _make_layer(tmp_path / f"l{i}", rng, i)
        layers.append(tmp_path / f"l{i}")
    fold = tmp_path / "fold"
    fold.mkdir()
    merge_layers([str(p) for p in layers[1:5]], str(fold), markers=True)
    plain = _mounted_view(tmp_path, "plain", layers)
    folded = _mounted_view(tmp_path, "folded", [layers[0], fold, layers[5]])
    assert folded == plain


@pytest.mark.parametrize("seed", range(6))
def test_merging_a_whole_stack_gives_the_merged_view(tmp_path: Path, seed: int) -> None:
    rng = random.Random(100 + seed)
    layers = []
    for i in range(5):
        _make_layer(tmp_path / f"l{i}", rng, i)
        layers.append(tmp_path / f"l{i}")
    tree = tmp_path / "tree"
    tree.mkdir()
    merge_layers([str(p) for p in layers], str(tree), markers=False)
    view = _view(tree)
    assert not [p for p, v in view.items() if v[0] == stat.S_IFCHR], "whiteouts are applied"
    merged = _mounted_view(tmp_path, "m", layers)
    merged.pop("", None)
    assert view == merged


def _opaque_then_plain(l1: Path, l2: Path) -> str:
    (l1 / "a").mkdir()
    os.setxattr(l1 / "a", "trusted.overlay.opaque", b"y")
    (l1 / "a" / "new").write_text("1")
    (l2 / "a").mkdir()
    (l2 / "a" / "newer").write_text("2")
    return "a/x"


def _file_then_dir(l1: Path, l2: Path) -> str:
    (l1 / "a").write_text("a file")
    (l2 / "a").mkdir()
    (l2 / "a" / "inside").write_text("3")
    return "a/x"


def _whiteout_then_dir(l1: Path, l2: Path) -> str:
    os.mknod(l1 / "c", stat.S_IFCHR | 0o600, os.makedev(0, 0))
    (l2 / "c").mkdir()
    return "c/k"


@pytest.mark.parametrize("case", [_opaque_then_plain, _file_then_dir, _whiteout_then_dir])
def test_a_fold_keeps_hiding_what_its_layers_hid(tmp_path: Path, case: object) -> None:
    """A dir over an opaque dir, a file or a whiteout hides the base's entries below it."""
    base, l1, l2, fold = (tmp_path / n for n in ("base", "l1", "l2", "fold"))
    _full_layer(base)
    for d in (l1, l2, fold):
        d.mkdir()
    hidden = case(l1, l2)  # type: ignore[operator]
    merge_layers([str(l1), str(l2)], str(fold), markers=True)
    plain = _mounted_view(tmp_path, "plain", [base, l1, l2])
    assert plain == _mounted_view(tmp_path, "folded", [base, fold])
    assert not any(p.startswith(hidden) for p in plain), "the case hides base entries"

"""Steps whose layer is empty, and deep layer stacks, for real on both snapshotters.

Five ``RUN true`` steps once failed with a bare "mounting overlay: Invalid
argument": each left the same empty layer dir, and overlayfs refuses a stack
naming a dir twice. Stacks deeper than the kernel allows are folded
(:mod:`hoist.snapshot.lowers`); these tests build, cache, save, load and run
such images, and check what each step's layer holds.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import hoist
from hoist.image import Image
from hoist.models.digest import Digest
from hoist.models.reference import Reference
from hoist.snapshot.lowers import MAX_LOWERS
from hoist.store import Store
from hoist.testing.busybox import busybox_tar
from hoist.testing.cli import run_hoist as cli
from hoist.testing.cli import write_tree as write
from hoist.testing.images import with_layer

pytestmark = pytest.mark.root

# the diff_id of an empty layer: a tar of two zero blocks
EMPTY = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"


@pytest.fixture(params=["overlay", "copy"])
def snapshotter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOIST_SNAPSHOTTER", request.param)
    return str(request.param)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs for a store: deep copy-snapshotter builds create and delete many inodes,
    which a journal-less ext4 makes slow (see bench/RESULTS.md)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _small_busybox_store(directory: Path) -> Path:
    """A store with a busybox of six applets (few files: every copy snapshot is cheap)."""
    from hoist.export.importer import import_tarball

    root = directory / "store"
    with Store.open(root) as store:
        tarball = busybox_tar(directory / "busybox.tar", all_applets=False)
        import_tarball(store, str(tarball), Reference.parse("busybox:local"),
                       changes=['CMD ["sh"]'])
    return root


def _layers(root: Path, ref: str) -> list[str]:
    with Store.open(root) as store:
        return [str(d) for d in store.get_image(ref).image.diff_ids]


def _run(root: Path, ref: str, *command: str) -> str:
    done = cli(root, "run", "--rm", ref, *command)
    assert done.returncode == 0, done.stderr
    return done.stdout


NOTHING = """\
FROM busybox:local
RUN true
RUN echo hi
RUN true
RUN true
RUN true
RUN test -f /bin/sh
WORKDIR /bin
COPY empty/ /bin/
RUN mkdir -p /bin
RUN echo done > /done
CMD ["cat", "/done"]
"""


def test_steps_that_change_nothing_build_cache_save_load_and_run(
    snapshotter: str, root: Path, tmp_path: Path
) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": NOTHING})
    (ctx / "empty").mkdir()
    base = len(_layers(root, "busybox:local"))
    first = hoist.build(ctx, tags=[f"stacks/nothing:{snapshotter}"], root=root)
    layers = _layers(root, f"stacks/nothing:{snapshotter}")
    # one layer per RUN, WORKDIR and COPY, as BuildKit writes them (compat case empty-steps);
    # the first RUN over this base leaves /dev, /proc and /sys, as BuildKit's does
    assert len(layers) == base + 10
    assert layers[base + 1:base + 9] == [EMPTY] * 8 and EMPTY not in (layers[base], layers[-1])
    again = hoist.build(ctx, tags=[f"stacks/nothing:{snapshotter}"], root=root)
    assert again.image_id == first.image_id and all(s.cached for s in again.steps[1:])
    assert _run(root, f"stacks/nothing:{snapshotter}") == "done\n"
    archive = tmp_path / "nothing.tar"
    assert cli(root, "save", "-o", str(archive), f"stacks/nothing:{snapshotter}").returncode == 0
    fresh = tmp_path / "fresh"
    assert cli(fresh, "load", "-i", str(archive)).returncode == 0
    assert _layers(fresh, f"stacks/nothing:{snapshotter}") == layers
    shown = _run(fresh, f"stacks/nothing:{snapshotter}", "sh", "-c", "cat /done; pwd")
    assert shown == "done\n/bin\n"


def test_an_empty_layer_over_another_parent_shows_that_parent(
    snapshotter: str, root: Path, tmp_path: Path
) -> None:
    """The empty layer's dir is shared by every image that has one: it must hold nothing."""
    write(tmp_path / "a", {"Dockerfile": "FROM busybox:local\nRUN true\n"})
    write(tmp_path / "b", {"Dockerfile": "FROM busybox:local\nRUN chmod 700 /etc\nRUN true\n"
                                         "RUN stat -c %a /etc > /mode\n"})
    hoist.build(tmp_path / "a", root=root)
    hoist.build(tmp_path / "b", tags=[f"stacks/mode:{snapshotter}"], root=root)
    assert _run(root, f"stacks/mode:{snapshotter}", "cat", "/mode") == "700\n"
    empty = root / "layers" / Digest.parse(EMPTY).hex
    if empty.exists():  # the overlay snapshotter adopts uppers; the copy one unpacks tars
        assert list(empty.iterdir()) == []


def _deep_dockerfile(steps: int, *, changes: bool) -> str:
    run = (lambda i: f"RUN echo {i} > /f{i}\n") if changes else (lambda i: "RUN true\n")
    return "FROM busybox:local\n" + "".join(run(i) for i in range(steps)) + "RUN ls / > /list\n"


def _folds(root: Path) -> int:
    """Unpacked dirs that no image lists: the folded chunks of deep stacks."""
    with Store.open(root) as store:
        rows = store.db.query("SELECT diff_id FROM layers WHERE diff_id NOT IN"
                              " (SELECT diff_id FROM image_layers)")
    return len(rows)


def test_300_run_steps_that_each_change_a_file(root: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOIST_SNAPSHOTTER", "overlay")
    ctx = write(tmp_path, {"Dockerfile": _deep_dockerfile(300, changes=True)})
    hoist.build(ctx, tags=["stacks/deep:files"], root=root)
    assert len(_layers(root, "stacks/deep:files")) > 300 > MAX_LOWERS
    assert _folds(root) >= 3  # every 63 steps past 128 folded one more chunk
    listing = _run(root, "stacks/deep:files", "cat", "/list", "/f0", "/f150", "/f299")
    names = listing.split()
    assert {f"f{i}" for i in range(300)} <= set(names) and names[-3:] == ["0", "150", "299"]


def test_300_run_steps_that_change_nothing(root: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOIST_SNAPSHOTTER", "overlay")
    ctx = write(tmp_path, {"Dockerfile": _deep_dockerfile(300, changes=False)})
    hoist.build(ctx, tags=["stacks/deep:nothing"], root=root)
    assert _layers(root, "stacks/deep:nothing").count(EMPTY) == 299  # the first adds /dev…
    assert "bin" in _run(root, "stacks/deep:nothing", "cat", "/list").split()


def test_140_run_steps_on_the_copy_snapshotter(
    tmpfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_LOWERS, so the copy snapshotter merges folded chunks too (300 steps take
    ~20 s there: every step copies the whole rootfs, which is that snapshotter's cost;
    its empty steps are in the test above, and equal empty layers are one dir anyway)."""
    monkeypatch.setenv("HOIST_SNAPSHOTTER", "copy")
    root = _small_busybox_store(tmpfs)
    ctx = write(tmpfs / "ctx", {"Dockerfile": _deep_dockerfile(140, changes=True)})
    hoist.build(ctx, tags=["stacks/copy:deep"], root=root)
    assert _folds(root) >= 1
    names = _run(root, "stacks/copy:deep", "cat", "/list", "/f139").split()
    assert {f"f{i}" for i in range(140)} <= set(names) and names[-1] == "139"


def _deep_base(directory: Path, layers: int) -> Path:
    """A docker-archive of busybox plus ``layers`` one-file layers, each also rewriting /top."""
    source = _small_busybox_store(directory / "source")
    with Store.open(source) as store:
        image: Image = store.get_image("busybox:local").image
        for i in range(layers):
            files = {f"l/{i:03d}": f"{i}\n".encode(), "top": f"{i}\n".encode()}
            image = with_layer(store, image, files, f"layer {i}")
        store.tag(store.write_image(image), Reference.parse(f"deep/base:{layers}"))
    archive = directory / "base.tar"
    assert cli(source, "save", "-o", str(archive), f"deep/base:{layers}").returncode == 0
    return archive


@pytest.mark.parametrize("layers", [127, 200])
def test_a_deep_base_loads_builds_on_and_runs(
    snapshotter: str, tmpfs: Path, layers: int
) -> None:
    archive = _deep_base(tmpfs, layers)
    root = tmpfs / "store"
    assert cli(root, "load", "-i", str(archive)).returncode == 0
    ctx = write(tmpfs / "ctx", {"Dockerfile": f"FROM deep/base:{layers}\n"
                                "RUN cat /top /l/000 > /seen && ls /l | wc -l >> /seen\n"
                                "RUN true\nRUN true\n"})
    hoist.build(ctx, tags=["deep/app:1"], root=root)
    assert len(_layers(root, "deep/app:1")) == layers + 4
    out = _run(root, "deep/app:1", "cat", "/seen")
    assert out.split() == [str(layers - 1), "0", str(layers)]
    meta = json.loads(cli(root, "inspect", "deep/app:1").stdout)
    assert len(meta[0]["RootFS"]["Layers"]) == layers + 4

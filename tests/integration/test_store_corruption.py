"""A damaged store (SECURITY.md G6): corruption is reported, never served, and repairable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hoist.store import Store
from hoist.testing.busybox import busybox_tar


def hoist(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hoist", "--root", str(root), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def one_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if not line.startswith("hint:")]
    assert len(errors) == 1 and errors[0].startswith("hoist: error: "), result.stderr
    for needle in needles:
        assert needle in errors[0]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    tarball = busybox_tar(tmp_path / "rootfs.tar", all_applets=False)
    assert hoist(store, "import", str(tarball), "bb:1").returncode == 0
    assert hoist(store, "import", "-m", "other", str(tarball), "bb:2").returncode == 0
    return store


def test_flipped_byte_in_a_layer_is_caught_and_repaired(root: Path, tmp_path: Path) -> None:
    with Store.open(root) as store:
        layer = store.get_image("bb:1").image.layers[0].digest
        path = store.blobs.path(layer)
    data = bytearray(path.read_bytes())
    data[1000] ^= 0x01
    path.write_bytes(bytes(data))
    saved = tmp_path / "out.tar"
    one_error(hoist(root, "save", "-o", str(saved), "bb:1"), "store corruption", str(layer))
    assert not saved.exists()
    check = hoist(root, "fsck")
    assert check.returncode == 1 and f"blob {layer}" in check.stdout
    assert hoist(root, "fsck", "--repair").returncode == 0
    assert hoist(root, "fsck").returncode == 0
    # both images shared that layer: both are gone, nothing half-there remains
    assert hoist(root, "images", "-aq").stdout == ""


def test_damaged_database_is_rebuilt_from_index_json(root: Path) -> None:
    db = root / "hoist.db"
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    one_error(hoist(root, "images"), "hoist.db")
    repaired = hoist(root, "fsck", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "damaged database moved to" in repaired.stdout
    assert list(root.glob("hoist.db.damaged-*")), "the damaged file must be kept"
    tags = sorted(line.split()[1] for line in hoist(root, "images").stdout.splitlines()[1:])
    assert tags == ["1", "2"]


def test_emptied_index_json_is_rewritten(root: Path) -> None:
    (root / "index.json").write_bytes(b"")
    check = hoist(root, "fsck")
    assert check.returncode == 1 and "index.json" in check.stdout
    assert hoist(root, "fsck", "--repair").returncode == 0
    assert hoist(root, "fsck").returncode == 0
    assert "bb:1" in hoist(root, "inspect", "-f", "{{json .RepoTags}}", "bb:1").stdout

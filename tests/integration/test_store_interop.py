"""Interop checked for real with the installed skopeo and umoci."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hoist.store import Store
from hoist.testing.busybox import BUSYBOX, busybox_tar

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not shutil.which("skopeo"), reason="skopeo is not installed"),
]
REF = "docker.io/library/busybox:local"


def hoist(root: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "hoist", "--root", str(root), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def tool(*args: str) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{args[0]} failed: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("interop")
    root = work / "store"
    hoist(
        root, "import", "-c", 'CMD ["sh"]', str(busybox_tar(work / "rootfs.tar")), "busybox:local"
    )
    return root


@pytest.fixture(scope="module")
def saved(store_root: Path) -> Path:
    archive = store_root.parent / "saved.tar"
    hoist(store_root, "save", "-o", str(archive), "busybox:local")
    return archive


def _diff_ids(root: Path) -> list[str]:
    with Store.open(root) as store:
        return [str(d) for d in store.get_image("busybox:local").image.diff_ids]


def test_skopeo_inspects_the_saved_docker_archive(store_root: Path, saved: Path) -> None:
    info = json.loads(tool("skopeo", "inspect", f"docker-archive:{saved}"))
    assert info["Layers"] == _diff_ids(store_root)
    assert info["Os"] == "linux"
    by_tag = json.loads(tool("skopeo", "inspect", f"docker-archive:{saved}:busybox:local"))
    assert by_tag["Layers"] == info["Layers"]
    config = json.loads(tool("skopeo", "inspect", "--config", f"docker-archive:{saved}"))
    assert config["config"]["Cmd"] == ["sh"]


def test_skopeo_reads_the_saved_archive_as_oci_archive(saved: Path, store_root: Path) -> None:
    info = json.loads(tool("skopeo", "inspect", f"oci-archive:{saved}:local"))
    assert info["Layers"] == _diff_ids(store_root)


def test_skopeo_reads_the_store_itself(store_root: Path) -> None:
    info = json.loads(tool("skopeo", "inspect", f"oci:{store_root}:{REF}"))
    with Store.open(store_root) as store:
        assert info["Digest"] == str(store.get_image("busybox:local").manifest_digest)
    assert info["Layers"] == _diff_ids(store_root)


def test_skopeo_copy_to_oci_dir_then_hoist_load(
    store_root: Path, saved: Path, tmp_path: Path
) -> None:
    layout = tmp_path / "oci"
    tool("skopeo", "copy", f"docker-archive:{saved}", f"oci:{layout}:busybox:copied")
    fresh = tmp_path / "fresh"
    assert hoist(fresh, "load", "-i", str(layout)) == "Loaded image: busybox:copied\n"
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(
        (layout / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text()
    )
    config_hex = manifest["config"]["digest"][7:]
    inspected = json.loads(hoist(fresh, "inspect", "busybox:copied"))[0]
    # skopeo rewrites the config when converting; hoist keeps whatever bytes it gets
    assert inspected["Id"] == f"sha256:{config_hex}"
    assert inspected["RootFS"]["Layers"] == _diff_ids(store_root)
    assert hoist(fresh, "fsck").endswith("is consistent\n")


def test_skopeo_copy_out_of_the_store(store_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.tar"
    tool("skopeo", "copy", f"oci:{store_root}:{REF}", f"docker-archive:{out}:busybox:fromstore")
    fresh = tmp_path / "fresh"
    assert hoist(fresh, "load", "-i", str(out)) == "Loaded image: busybox:fromstore\n"
    inspected = json.loads(hoist(fresh, "inspect", "busybox:fromstore"))[0]
    assert inspected["RootFS"]["Layers"] == _diff_ids(store_root)


@pytest.mark.root
@pytest.mark.skipif(not shutil.which("umoci"), reason="umoci is not installed")
def test_umoci_unpacks_an_image_of_the_store(store_root: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    tool("umoci", "unpack", "--image", f"{store_root}:{REF}", str(bundle))
    unpacked = bundle / "rootfs" / "bin" / "busybox"
    digest = hashlib.sha256(unpacked.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(BUSYBOX.read_bytes()).hexdigest()
    assert (bundle / "rootfs" / "bin" / "sh").readlink() == Path("busybox")
    config = json.loads((bundle / "config.json").read_text())
    assert config["process"]["args"] == ["sh"]
    assert hoist(store_root, "fsck").endswith("is consistent\n")

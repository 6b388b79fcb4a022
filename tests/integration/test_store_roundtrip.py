"""import → save → load round trips through the real CLI, with every layer codec."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from hoist.image import mediatypes as mt
from hoist.models.digest import sha256_of
from hoist.store import Store
from hoist.testing.busybox import busybox_tar


@pytest.fixture(scope="module")
def rootfs_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_tar(tmp_path_factory.mktemp("bb") / "rootfs.tar", all_applets=False)


def hoist(root: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    raw = subprocess.run(
        [sys.executable, "-m", "hoist", "--root", str(root), *args],
        input=stdin,
        capture_output=True,
        timeout=120,
    )
    return subprocess.CompletedProcess(
        raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode()
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_save_load_keeps_the_image_id(tmp_path: Path, rootfs_tar: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    image_id = ok(hoist(first, "import", "-c", 'CMD ["sh"]', "-c", "ENV A=1 B=2",
                        str(rootfs_tar), "busybox:local")).strip()  # fmt: skip
    assert image_id.startswith("sha256:") and len(image_id) == 71
    archive = tmp_path / "out.tar"
    ok(hoist(first, "save", "-o", str(archive), "busybox:local"))
    assert ok(hoist(second, "load", "-i", str(archive))) == "Loaded image: busybox:local\n"
    inspected = json.loads(ok(hoist(second, "inspect", "busybox:local")))[0]
    assert inspected["Id"] == image_id
    assert inspected["Config"]["Cmd"] == ["sh"] and inspected["Config"]["Env"] == ["A=1", "B=2"]
    assert inspected["RepoTags"] == ["busybox:local"]
    assert set(inspected) >= {"Id", "RepoTags", "RepoDigests", "Parent", "Created", "Config",
                              "RootFS", "Size", "Os", "Architecture", "History"}  # fmt: skip
    # the archive is a docker-archive and an OCI layout at once
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
    assert {"oci-layout", "index.json", "manifest.json"} <= names
    assert manifest[0]["RepoTags"] == ["busybox:local"]
    assert manifest[0]["Config"] == f"blobs/sha256/{image_id[7:]}"
    assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == (
        "docker.io/library/busybox:local"
    )
    assert ok(hoist(second, "fsck")).endswith("is consistent\n")


def test_save_is_deterministic_and_load_is_idempotent(tmp_path: Path, rootfs_tar: Path) -> None:
    root = tmp_path / "s"
    ok(hoist(root, "import", str(rootfs_tar), "bb:1"))
    one, two = tmp_path / "1.tar", tmp_path / "2.tar"
    ok(hoist(root, "save", "-o", str(one), "bb:1"))
    ok(hoist(root, "save", "-o", str(two), "bb:1"))
    assert one.read_bytes() == two.read_bytes()
    ok(hoist(root, "load", "-i", str(one)))
    ok(hoist(root, "load", "-i", str(one)))
    assert len(ok(hoist(root, "images", "-q")).split()) == 1


def _oci_layout_with(store: Store, ref: str, codec: str, dest: Path) -> str:
    """Write an OCI layout dir holding ``ref`` with its layers in ``codec``."""
    stored = store.get_image(ref)
    pairs = zip(stored.image.layers, stored.image.diff_ids, strict=True)
    layers = [store.layer_in_codec(layer, diff_id, codec) for layer, diff_id in pairs]
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for desc in (*layers, stored.manifest.config):
        with store.blobs.open(desc.digest) as src:
            (blobs / desc.digest.hex).write_bytes(src.read())
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
        "config": stored.manifest.config.to_json(),
        "layers": [layer.to_json() for layer in layers],
    }).encode()  # fmt: skip
    digest = sha256_of(manifest)
    (blobs / digest.hex).write_bytes(manifest)
    name = {"org.opencontainers.image.ref.name": f"example.com/x:{codec}"}
    entry = {"mediaType": mt.OCI_MANIFEST, "digest": str(digest), "size": len(manifest),
             "annotations": name}  # fmt: skip
    (dest / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return str(stored.id)


@pytest.mark.parametrize("codec", ["gzip", "zstd", "plain"])
def test_load_oci_layout_with_compressed_layers(
    tmp_path: Path, rootfs_tar: Path, codec: str
) -> None:
    src_root, dst_root = tmp_path / "src", tmp_path / "dst"
    ok(hoist(src_root, "import", str(rootfs_tar), "bb:1"))
    with Store.open(src_root) as store:
        image_id = _oci_layout_with(store, "bb:1", codec, tmp_path / "layout")
        if codec != "plain":  # memoised: a second conversion makes nothing new
            stored = store.get_image("bb:1")
            again = store.layer_in_codec(stored.image.layers[0], stored.image.diff_ids[0], codec)
            row = store.tables.compressed_get(stored.image.diff_ids[0], codec)
            assert row == (again.digest, again.size)
    assert ok(hoist(dst_root, "load", "-i", str(tmp_path / "layout"))) == (
        f"Loaded image: example.com/x:{codec}\n"
    )
    with Store.open(dst_root) as store:
        stored = store.get_image(f"example.com/x:{codec}")
        assert str(stored.id) == image_id
        assert mt.layer_codec(stored.image.layers[0].media_type) == codec
    # and out again: the saved archive (layers as stored) loads elsewhere with the same ID
    ok(hoist(dst_root, "save", "-o", str(tmp_path / "re.tar"), f"example.com/x:{codec}"))
    ok(hoist(tmp_path / "third", "load", "-i", str(tmp_path / "re.tar")))
    again = json.loads(ok(hoist(tmp_path / "third", "inspect", f"example.com/x:{codec}")))
    assert again[0]["Id"] == image_id


def test_load_legacy_docker_archive_and_gzipped_archive(tmp_path: Path, rootfs_tar: Path) -> None:
    root = tmp_path / "s"
    image_id = ok(hoist(root, "import", str(rootfs_tar), "bb:1")).strip()
    with Store.open(root) as store:
        stored = store.get_image("bb:1")
        config = stored.image.config_bytes()
        with store.blobs.open(stored.image.layers[0].digest) as src:
            layer = src.read()
    legacy = tmp_path / "legacy.tar"
    with tarfile.open(legacy, "w") as tar:  # docker <= 24: <v1id>/layer.tar, <hex>.json
        _add(tar, f"{image_id[7:]}.json", config)
        _add(tar, "aaaa/layer.tar", layer)
        link = tarfile.TarInfo("bbbb/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, "../aaaa/layer.tar"
        tar.addfile(link)
        _add(tar, "manifest.json", json.dumps([{"Config": f"{image_id[7:]}.json",
             "RepoTags": ["legacy:1"], "Layers": ["bbbb/layer.tar"]}]).encode())  # fmt: skip
        _add(tar, "repositories", b'{"legacy": {"1": "aaaa"}}')
    fresh = tmp_path / "fresh"
    assert ok(hoist(fresh, "load", "-i", str(legacy))) == "Loaded image: legacy:1\n"
    zipped = tmp_path / "legacy.tar.gz"
    zipped.write_bytes(gzip.compress(legacy.read_bytes()))
    ok(hoist(tmp_path / "fresh2", "load", "-i", str(zipped)))
    for where in (fresh, tmp_path / "fresh2"):
        assert json.loads(ok(hoist(where, "inspect", "legacy:1")))[0]["Id"] == image_id


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_import_from_stdin_and_listing_commands(tmp_path: Path, rootfs_tar: Path) -> None:
    root = tmp_path / "s"
    image_id = ok(hoist(root, "import", "-m", "from stdin", "-", "bb:stdin",
                        stdin=gzip.compress(rootfs_tar.read_bytes()))).strip()  # fmt: skip
    lines = ok(hoist(root, "images")).splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert lines[1].split()[:3] == ["bb", "stdin", image_id[7:19]]
    row = json.loads(ok(hoist(root, "images", "--format", "json")))
    assert row["ID"] == image_id[7:19] and row["Repository"] == "bb" and row["Tag"] == "stdin"
    history = ok(hoist(root, "history", "bb:stdin")).splitlines()
    assert history[0].split()[:2] == ["IMAGE", "CREATED"] and "from stdin" in history[1]
    ok(hoist(root, "tag", "bb:stdin", "localhost:5000/bb:v2"))
    assert ok(hoist(root, "inspect", "-f", "{{.Id}}", "localhost:5000/bb:v2")).strip() == image_id
    removed = ok(hoist(root, "rmi", "bb:stdin", "localhost:5000/bb:v2")).splitlines()
    assert removed == [
        "Untagged: bb:stdin",
        "Untagged: localhost:5000/bb:v2",
        f"Deleted: {image_id}",
    ]
    assert ok(hoist(root, "images", "-aq")) == ""


def test_two_processes_load_into_one_store(tmp_path: Path, rootfs_tar: Path) -> None:
    root = tmp_path / "s"
    archive = tmp_path / "a.tar"
    ok(hoist(tmp_path / "src", "import", str(rootfs_tar), "bb:1"))
    ok(hoist(tmp_path / "src", "save", "-o", str(archive), "bb:1"))
    cmd = [sys.executable, "-m", "hoist", "--root", str(root)]
    procs = [subprocess.Popen([*cmd, "load", "-i", str(archive)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert ok(hoist(root, "fsck")).endswith("is consistent\n")
    assert len(ok(hoist(root, "images", "-q")).split()) == 1

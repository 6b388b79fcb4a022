"""Bad input to load/import: one-line errors naming the file, nothing written outside
the store, no traceback, and ``hoist fsck`` passing afterwards (issue 2, "Bad input")."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hoist.export.importer import import_tarball
from hoist.export.save import save_to_file
from hoist.models.reference import Reference
from hoist.store import Store
from hoist.testing.busybox import busybox_tar


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("good")
    rootfs = busybox_tar(work / "rootfs.tar", all_applets=False)
    with Store.open(work / "store") as store:
        import_tarball(store, str(rootfs), Reference.parse("bb:1"))
        save_to_file(store, ["bb:1"], work / "saved.tar")
    layout = work / "layout"
    layout.mkdir()
    with tarfile.open(work / "saved.tar") as tar:
        for member in tar.getmembers():
            if member.isfile():
                target = layout / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
    return {"rootfs": rootfs, "archive": work / "saved.tar", "layout": layout}


def _tree(root: Path, skip: Path) -> dict[str, tuple[int, str]]:
    state = {}
    for path in sorted(root.rglob("*")):
        if path == skip or skip in path.parents:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        state[str(path)] = (path.lstat().st_mode, digest)
    return state


def expect_clean_failure(tmp_path: Path, args: list[str], *must_mention: str) -> str:
    """Run hoist; assert a one-line error, nothing written outside the store, fsck clean."""
    store = tmp_path / "store"
    victim = tmp_path / "victim"
    victim.mkdir(exist_ok=True)
    (victim / "hello").write_text("untouched")
    work = tmp_path / "cwd"
    work.mkdir(exist_ok=True)
    before = _tree(tmp_path, store)
    result = subprocess.run(
        [sys.executable, "-m", "hoist", "--root", str(store), *args],
        capture_output=True, text=True, cwd=work, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if not line.startswith("hint:")]
    assert len(errors) == 1 and errors[0].startswith("hoist: error: "), result.stderr
    for text in must_mention:
        assert text in errors[0], errors[0]
    assert _tree(tmp_path, store) == before, "something was written outside the store"
    fsck = subprocess.run(
        [sys.executable, "-m", "hoist", "--root", str(store), "fsck"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    return errors[0]


def _copy(src: Path, dest: Path) -> Path:
    if src.is_dir():
        shutil.copytree(src, dest)
    else:
        shutil.copy(src, dest)
    return dest


def _tar(dest: Path, entries: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> Path:
    with tarfile.open(dest, "w") as tar:
        for info in entries:
            payload = (data or {}).get(info.name, b"")
            info.size = len(payload) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(payload))
    return dest


def _entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


# -- load: damaged archives -----------------------------------------------------


def test_truncated_archive(tmp_path: Path, good: dict[str, Path]) -> None:
    data = good["archive"].read_bytes()
    bad = tmp_path / "truncated.tar"
    bad.write_bytes(data[: len(data) // 2])
    expect_clean_failure(tmp_path, ["load", "-i", str(bad)], str(bad))


def test_truncated_inside_a_header(tmp_path: Path, good: dict[str, Path]) -> None:
    bad = tmp_path / "cut.tar"
    bad.write_bytes(good["archive"].read_bytes()[:700])
    expect_clean_failure(tmp_path, ["load", "-i", str(bad)], str(bad))


def test_corrupt_layer_bytes_in_archive(tmp_path: Path, good: dict[str, Path]) -> None:
    data = bytearray(good["archive"].read_bytes())
    with tarfile.open(good["archive"]) as tar:
        biggest = max(tar.getmembers(), key=lambda m: m.size)
    data[biggest.offset_data + biggest.size // 2] ^= 0xFF
    bad = tmp_path / "corrupt.tar"
    bad.write_bytes(bytes(data))
    expect_clean_failure(tmp_path, ["load", "-i", str(bad)], str(bad), "digest mismatch")


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.tar", b""), ("text.tar", b"hello, this is not an archive\n" * 40)],
)
def test_not_an_archive(tmp_path: Path, name: str, content: bytes) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    expect_clean_failure(tmp_path, ["load", "-i", str(bad)], str(bad))


def test_truncated_gzip_archive(tmp_path: Path, good: dict[str, Path]) -> None:
    packed = gzip.compress(good["archive"].read_bytes())
    bad = tmp_path / "cut.tar.gz"
    bad.write_bytes(packed[: len(packed) // 2])
    expect_clean_failure(tmp_path, ["load", "-i", str(bad)], str(bad), "unexpected end")


# -- load: OCI layouts naming missing or mismatching blobs ---------------------


def _layout_blob(layout: Path, pick: Callable[[dict[str, object]], str]) -> Path:
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(
        (layout / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text()
    )
    return layout / "blobs/sha256" / pick(manifest)[7:]


def test_manifest_names_a_missing_blob(tmp_path: Path, good: dict[str, Path]) -> None:
    layout = _copy(good["layout"], tmp_path / "layout")
    os.unlink(_layout_blob(layout, lambda m: m["layers"][0]["digest"]))  # type: ignore[index]
    (layout / "manifest.json").unlink()  # read it as a pure OCI layout
    expect_clean_failure(tmp_path, ["load", "-i", str(layout)], str(layout), "missing")


def test_blob_content_does_not_match_its_digest(tmp_path: Path, good: dict[str, Path]) -> None:
    layout = _copy(good["layout"], tmp_path / "layout")
    (layout / "manifest.json").unlink()
    config = _layout_blob(layout, lambda m: m["config"]["digest"])  # type: ignore[index]
    config.write_bytes(config.read_bytes().replace(b"amd64", b"arm64"))
    expect_clean_failure(tmp_path, ["load", "-i", str(layout)], str(layout), "does not match")


def test_layer_does_not_match_its_diff_id(tmp_path: Path, good: dict[str, Path]) -> None:
    with tarfile.open(good["archive"]) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        config = tar.extractfile(manifest[0]["Config"]).read()  # type: ignore[union-attr]
    other = busybox_tar(tmp_path / "other.tar", all_applets=True)
    entry = {"Config": "c.json", "RepoTags": ["x:1"], "Layers": ["x/layer.tar"]}
    files = {
        "c.json": config,
        "x/layer.tar": other.read_bytes(),
        "manifest.json": json.dumps([entry]).encode(),
    }
    bad = _tar(tmp_path / "legacy.tar", [_entry(name) for name in files], files)
    other.unlink()
    expect_clean_failure(tmp_path, ["load", "-i", str(bad)], str(bad), "diff_id")


@pytest.mark.parametrize("digest", ["sha256:../../x", "sha256:../../../../etc/passwd", "md5:abc"])
def test_malformed_digest_in_index(tmp_path: Path, good: dict[str, Path], digest: str) -> None:
    layout = _copy(good["layout"], tmp_path / "layout")
    (layout / "manifest.json").unlink()
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0]["digest"] = digest
    (layout / "index.json").write_text(json.dumps(index))
    expect_clean_failure(tmp_path, ["load", "-i", str(layout)], str(layout), "invalid digest")


def test_malformed_digest_in_manifest(tmp_path: Path, good: dict[str, Path]) -> None:
    layout = _copy(good["layout"], tmp_path / "layout")
    (layout / "manifest.json").unlink()
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(
        (layout / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text()
    )
    manifest["layers"][0]["digest"] = "sha256:../../../../etc/passwd"
    data = json.dumps(manifest).encode()
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs/sha256" / digest).write_bytes(data)
    index["manifests"][0].update(digest=f"sha256:{digest}", size=len(data))
    (layout / "index.json").write_text(json.dumps(index))
    expect_clean_failure(tmp_path, ["load", "-i", str(layout)], str(layout), "invalid digest")


def test_symlinked_blob_in_layout_is_not_followed(tmp_path: Path, good: dict[str, Path]) -> None:
    layout = _copy(good["layout"], tmp_path / "layout")
    (layout / "manifest.json").unlink()
    config = _layout_blob(layout, lambda m: m["config"]["digest"])  # type: ignore[index]
    outside = tmp_path / "outside-config"
    config.rename(outside)
    config.symlink_to(outside)
    expect_clean_failure(tmp_path, ["load", "-i", str(layout)], str(layout))


# -- load: hostile entry names -------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        _entry("../evil"),
        _entry("/etc/evil"),
        _entry("a/../../evil"),
        _entry("grab", tarfile.LNKTYPE, "../../victim/hello"),
    ],
    ids=["dotdot", "absolute", "nested-dotdot", "hardlink-out"],
)
def test_hostile_archive_entries(tmp_path: Path, entry: tarfile.TarInfo) -> None:
    bad = _tar(tmp_path / "evil.tar", [_entry("manifest.json"), entry], {"manifest.json": b"[]"})
    message = expect_clean_failure(tmp_path, ["load", "-i", str(bad)], str(bad))
    assert repr(entry.name if not entry.islnk() else entry.linkname) in message
    assert not (tmp_path / "evil").exists() and not Path("/etc/evil").exists()


def test_manifest_layer_path_escaping_the_archive(tmp_path: Path, good: dict[str, Path]) -> None:
    manifest = [{"Config": "../../etc/passwd", "RepoTags": [], "Layers": []}]
    bad = _tar(tmp_path / "m.tar", [_entry("manifest.json")],
               {"manifest.json": json.dumps(manifest).encode()})  # fmt: skip
    expect_clean_failure(tmp_path, ["load", "-i", str(bad)], str(bad), "../../etc/passwd")


# -- import --------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [_entry("../x"), _entry("/abs/x"), _entry("h", tarfile.LNKTYPE, "../../etc/passwd")],
    ids=["dotdot", "absolute", "hardlink-out"],
)
def test_import_rejects_hostile_rootfs_entries(tmp_path: Path, entry: tarfile.TarInfo) -> None:
    bad = _tar(tmp_path / "rootfs.tar", [_entry("ok"), entry])
    expect_clean_failure(tmp_path, ["import", str(bad), "evil:1"], str(bad))


@pytest.mark.parametrize("kind", ["text", "empty", "truncated-gzip"])
def test_import_rejects_non_archives(tmp_path: Path, good: dict[str, Path], kind: str) -> None:
    bad = tmp_path / "rootfs.tar"
    packed = gzip.compress(good["rootfs"].read_bytes())
    content = {"text": b"not a tar\n" * 100, "empty": b"", "truncated-gzip": packed[:5000]}[kind]
    bad.write_bytes(content)
    expect_clean_failure(tmp_path, ["import", str(bad), "evil:1"], str(bad))


def test_bad_change_and_missing_file(tmp_path: Path, good: dict[str, Path]) -> None:
    expect_clean_failure(tmp_path, ["import", "-c", "RUN rm -rf /", str(good["rootfs"])], "RUN")
    missing = tmp_path / "nope.tar"
    expect_clean_failure(tmp_path, ["import", str(missing)], str(missing))
    expect_clean_failure(tmp_path, ["load", "-i", str(missing)], str(missing))

"""hoist.testing.compat and compat_cases, on archives and layouts made here."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from hoist.errors import ArchiveError
from hoist.testing.compat import (
    FIXED_MTIME,
    Allowance,
    CompatCaseError,
    FileEntry,
    ImageSnapshot,
    diff_snapshots,
    dumps_snapshot,
    format_report,
    history_keyword,
    list_cases,
    load_case,
    load_snapshot,
    snapshot_docker_archive,
    snapshot_oci_layout,
    stage_case,
)

COMPAT = Path(__file__).parent
CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "config": {"Env": ["A=1"], "Cmd": ["/bin/sh"], "WorkingDir": "/w", "Labels": {"k": "v"}},
    "history": [
        {"created_by": "COPY a /a # buildkit"},
        {"created_by": "ENV A=1", "empty_layer": True},
        {"created_by": "RUN rm # buildkit"},
    ],
}


def _member(
    name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, **kw: object
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = kind, mode
    for key, value in kw.items():
        setattr(info, key, value)
    return info


def _tar(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _layers() -> list[bytes]:
    lower = _tar(
        [
            (_member("d", tarfile.DIRTYPE, 0o755), None),
            (_member("d/a", mtime=1_700_000_000), b"alpha"),
            (_member("d/sub", tarfile.DIRTYPE, 0o700), None),
            (_member("d/sub/x"), b"x"),
            (_member("opq", tarfile.DIRTYPE, 0o755), None),
            (_member("opq/old"), b"old"),
            (_member("gone"), b"gone"),
            (_member("clock", mtime=1_700_000_123), b"build time"),
            (_member("dated-dir", tarfile.DIRTYPE, 0o755, mtime=1_700_000_000), None),
            (_member("becomes-file", tarfile.DIRTYPE, 0o755), None),
            (_member("becomes-file/child"), b"c"),
            (_member("suid", mode=0o4755, uid=5, gid=6), b"s"),
        ]
    )
    upper = _tar(
        [
            (_member("d/.wh.sub"), b""),
            (_member(".wh.gone"), b""),
            (_member("opq/.wh..wh..opq"), b""),
            (_member("opq/new"), b"new"),
            (_member("becomes-file", mode=0o600), b"now a file"),
            (_member("./link", tarfile.SYMTYPE, 0o777, linkname="d/a"), None),
            (_member("h1", mode=0o640), b"shared"),
            (_member("h2", tarfile.LNKTYPE, 0o640, linkname="h1"), None),
            (_member("sticky/", tarfile.DIRTYPE, 0o1777), None),
        ]
    )
    return [lower, gzip.compress(upper)]


def _docker_archive(path: Path, *, oci_paths: bool = False, images: int = 1) -> None:
    config = json.dumps(CONFIG).encode()
    layers = _layers()
    names = [f"blobs/sha256/{hashlib.sha256(x).hexdigest()}" for x in layers]
    if not oci_paths:
        names = [f"layer{i}/layer.tar" for i in range(len(layers))]
    manifest = [
        {"Config": "config.json", "RepoTags": [f"img{i}:latest"], "Layers": names}
        for i in range(images)
    ]
    files = [("manifest.json", json.dumps(manifest).encode()), ("config.json", config)]
    files += list(zip(names, layers, strict=True))
    path.write_bytes(_tar([(_member(n), data) for n, data in files]))


def test_layers_merge_with_whiteouts_links_and_modes(tmp_path: Path) -> None:
    _docker_archive(tmp_path / "img.tar")
    snap = snapshot_docker_archive(tmp_path / "img.tar")
    files = snap.files
    assert "/d/sub" not in files and "/d/sub/x" not in files  # whiteout removes the subtree
    assert "/gone" not in files
    assert "/opq/old" not in files and files["/opq/new"].sha256 is not None  # opaque dir
    assert "/becomes-file/child" not in files and files["/becomes-file"].type == "file"
    assert files["/becomes-file"].mode == 0o600
    assert files["/d/a"].sha256 == "sha256:" + hashlib.sha256(b"alpha").hexdigest()
    assert files["/link"] == FileEntry("symlink", 0o777, 0, 0, target="d/a")
    assert files["/suid"].mode == 0o4755 and (files["/suid"].uid, files["/suid"].gid) == (5, 6)
    assert files["/sticky"].mode == 0o1777
    assert files["/h1"].hardlink == files["/h2"].hardlink == "/h1"
    assert files["/h2"].size == 6 and files["/d/a"].hardlink is None
    # mtimes only where the input defines them, and never for directories
    assert files["/d/a"].mtime == 1_700_000_000
    assert files["/clock"].mtime is None and files["/dated-dir"].mtime is None
    assert snap.layers == 2
    assert snap.config["WorkingDir"] == "/w" and snap.config["Entrypoint"] is None
    assert [h.empty_layer for h in snap.history] == [False, True, False]


def test_oci_flavoured_docker_archive_and_ref_selection(tmp_path: Path) -> None:
    _docker_archive(tmp_path / "img.tar", oci_paths=True, images=2)
    with pytest.raises(ArchiveError, match="2 images"):
        snapshot_docker_archive(tmp_path / "img.tar")
    with pytest.raises(ArchiveError, match="no image tagged"):
        snapshot_docker_archive(tmp_path / "img.tar", "other:latest")
    snap = snapshot_docker_archive(tmp_path / "img.tar", "img1:latest")
    assert "/opq/new" in snap.files


def test_corrupt_layer_is_an_archive_error(tmp_path: Path) -> None:
    manifest = [{"Config": "c.json", "Layers": ["l.tar"]}]
    blob = _tar([(_member("ok"), b"x" * 2000)])[:700]
    files = [("manifest.json", json.dumps(manifest).encode()), ("c.json", b"{}"), ("l.tar", blob)]
    (tmp_path / "bad.tar").write_bytes(_tar([(_member(n), d) for n, d in files]))
    with pytest.raises(ArchiveError):
        snapshot_docker_archive(tmp_path / "bad.tar")
    with pytest.raises(ArchiveError):
        snapshot_docker_archive(tmp_path / "missing.tar")


def test_oci_layout_matches_docker_archive(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    (layout / "blobs" / "sha256").mkdir(parents=True)

    def put(data: bytes) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (layout / "blobs" / "sha256" / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    config = put(json.dumps(CONFIG).encode())
    manifest = {"schemaVersion": 2, "config": config, "layers": [put(x) for x in _layers()]}
    inner = put(json.dumps({"manifests": [put(json.dumps(manifest).encode())]}).encode())
    (layout / "index.json").write_text(json.dumps({"manifests": [inner]}))
    _docker_archive(tmp_path / "img.tar")
    from_layout = snapshot_oci_layout(layout, str(config["digest"]))
    assert from_layout == snapshot_docker_archive(tmp_path / "img.tar")
    with pytest.raises(ArchiveError, match="no image with config"):
        snapshot_oci_layout(layout, "sha256:" + "0" * 64)


def test_json_round_trip(tmp_path: Path) -> None:
    _docker_archive(tmp_path / "img.tar")
    snap = snapshot_docker_archive(tmp_path / "img.tar")
    (tmp_path / "snap.json").write_text(dumps_snapshot(snap))
    assert load_snapshot(tmp_path / "snap.json") == snap
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ArchiveError):
        load_snapshot(tmp_path / "bad.json")


def _changed(snap: ImageSnapshot) -> ImageSnapshot:
    files = dict(snap.files)
    del files["/d/a"]
    files["/extra"] = FileEntry("dir", 0o755, 0, 0)
    old = files["/suid"]
    files["/suid"] = FileEntry("file", 0o755, old.uid, 7, old.size, old.sha256)
    config = dict(snap.config, Cmd=["other"])
    return ImageSnapshot(config, snap.history[:2], snap.layers + 1, files)


def test_diff_reports_every_difference_and_honours_allowance(tmp_path: Path) -> None:
    _docker_archive(tmp_path / "img.tar")
    snap = snapshot_docker_archive(tmp_path / "img.tar")
    assert diff_snapshots(snap, snap) == []
    lines = diff_snapshots(snap, _changed(snap))
    assert 'config.Cmd: expected ["/bin/sh"], got ["other"]' in lines
    assert 'history[2]: expected "RUN rm # buildkit", got nothing' in lines
    assert "layers: expected 2, got 3" in lines
    assert any(line.startswith("/d/a: missing") for line in lines)
    assert "/extra: unexpected (dir 0755 0:0)" in lines
    assert "/suid: mode expected 4755, got 0755" in lines
    assert "/suid: gid expected 6, got 7" in lines
    allow = Allowance(
        fields=frozenset({"config.Cmd", "history", "layers"}),
        paths=("/d/*", "/extra"),
        file_fields=frozenset({"mode", "gid"}),
    )
    assert diff_snapshots(snap, _changed(snap), allow) == []
    report = format_report(lines, title="case", limit=2)
    assert report.startswith(f"case: {len(lines)} difference(s)") and "more" in report


def test_stage_case_normalises_modes_mtimes_and_runs_prepare(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    (case_dir / "sub").mkdir(parents=True)
    (case_dir / "Dockerfile").write_text("FROM scratch\n")
    (case_dir / "tool").write_text("#!/bin/sh\n")
    os.chmod(case_dir / "tool", 0o700)
    (case_dir / "sub" / "f").write_text("f")
    os.chmod(case_dir / "sub" / "f", 0o600)
    (case_dir / "buildkit.json").write_text("{}")
    (case_dir / "build.json").write_text(json.dumps({"modes": {"sub/f": "4750"}}))
    (case_dir / "prepare.py").write_text(
        "def prepare(context):\n    (context / 'made').write_text('m')\n"
    )
    ctx = stage_case(load_case(case_dir), tmp_path / "ctx")
    assert sorted(os.listdir(ctx)) == ["Dockerfile", "made", "sub", "tool"]
    assert stat.S_IMODE(os.stat(ctx / "tool").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(ctx / "made").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(ctx / "sub" / "f").st_mode) == 0o4750
    assert {os.stat(p).st_mtime for p in (ctx, ctx / "sub", ctx / "made")} == {FIXED_MTIME}


def test_bad_build_json_is_reported(tmp_path: Path) -> None:
    (tmp_path / "build.json").write_text('{"tagz": []}')
    with pytest.raises(CompatCaseError, match="unknown keys"):
        load_case(tmp_path)
    (tmp_path / "build.json").write_text("[")
    with pytest.raises(CompatCaseError):
        load_case(tmp_path)


def test_recorded_fixtures_are_complete() -> None:
    cases = list_cases(COMPAT / "cases")
    assert len(cases) >= 15
    for case in [*cases, load_case(COMPAT / "base")]:
        assert (case.directory / case.dockerfile).is_file(), case.name
        snap = load_snapshot(case.expected)
        assert snap.layers == sum(not h.empty_layer for h in snap.history), case.name
        assert snap.files["/bin/busybox"].type == "file", case.name


@pytest.mark.parametrize(
    ("created_by", "keyword"),
    [
        ("RUN /bin/sh -c echo hi # buildkit", "RUN"),
        ("RUN |2 A=1 B=2 /bin/sh -c echo # buildkit", "RUN"),
        ("/bin/sh -c echo hi", "RUN"),
        ("|1 A=b /bin/sh -c echo", "RUN"),
        ("touch /exec-no-shell", "RUN"),
        ("/bin/sh -c #(nop)  ENV A=1", "ENV"),
        ('/bin/sh -c #(nop)  CMD ["/bin/sh"]', "CMD"),
        ("/bin/sh -c #(nop) COPY file:abc in /x ", "COPY"),
        ("COPY a /b # buildkit", "COPY"),
        ("HEALTHCHECK &{[NONE]}", "HEALTHCHECK"),
        ("", "RUN"),
    ],
)
def test_history_keyword_reads_both_builders(created_by: str, keyword: str) -> None:
    assert history_keyword(created_by) == keyword


def test_empty_config_values_compare_equal_to_absent() -> None:
    base = ImageSnapshot({"User": None, "Cmd": None, "Labels": None}, (), 0, {})
    empty = ImageSnapshot({"User": "", "Cmd": [], "Labels": {}}, (), 0, {})
    assert diff_snapshots(base, empty) == []
    set_user = ImageSnapshot({"User": "0"}, (), 0, {})
    assert diff_snapshots(base, set_user) == ['config.User: expected null, got "0"']

"""Image snapshots: the config fields and the merged filesystem of an image.

An :class:`ImageSnapshot` is computed the same way from any docker-archive
(what ``docker save`` and ``hoist save`` write) or from an OCI image layout, so
an image hoist built can be held against one Docker/BuildKit built from the
same Dockerfile (the recorded ``tests/compat/cases/*/buildkit.json``).

The filesystem listing is the result of applying every layer in order, with
whiteouts and opaque directories honoured; per path it keeps type, mode
(permission bits plus setuid/setgid/sticky), uid, gid, size, sha256 of the
content, symlink target and which paths share one inode (hardlinks).
Modification times are kept only for non-directories and only where the input
defines them (a value in :data:`DEFINED_MTIMES`: the staged context's, or an
archive's a case made); any other mtime is the build's clock and is left out.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import msgspec

from hoist.errors import ArchiveError
from hoist.layer.codec import open_decompressed

#: The image config fields (``config`` object of the image config) compared.
CONFIG_FIELDS = (
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "Labels",
    "ExposedPorts",
    "Volumes",
    "StopSignal",
    "Healthcheck",
    "Shell",
    "OnBuild",
    "ArgsEscaped",
)

_TYPES = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
    tarfile.FIFOTYPE: "fifo",
}
#: mtimes set on purpose by test inputs: compat_cases.FIXED_MTIME on every staged
#: context file, 1_600_000_000 in the archives the add-archives case makes.
DEFINED_MTIMES = frozenset({1_700_000_000, 1_600_000_000})
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"


class FileEntry(msgspec.Struct, frozen=True):
    """One path of the merged filesystem. ``mode`` is ``S_IMODE`` (incl. suid/sgid/sticky).

    ``hardlink`` names the smallest path of the inode's link group when the
    inode has more than one path, else None. ``mtime`` is set only for
    non-directories whose mtime is one of :data:`DEFINED_MTIMES` (copied from
    the input, not the build's clock).
    """

    type: str
    mode: int
    uid: int
    gid: int
    size: int = 0
    sha256: str | None = None
    target: str | None = None
    hardlink: str | None = None
    mtime: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "mode": f"{self.mode:04o}"}
        out.update(uid=self.uid, gid=self.gid)
        if self.type == "file":
            out.update(size=self.size, sha256=self.sha256)
        if self.target is not None:
            out["target"] = self.target
        if self.hardlink is not None:
            out["hardlink"] = self.hardlink
        if self.mtime is not None:
            out["mtime"] = self.mtime
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileEntry:
        return cls(
            type=data["type"],
            mode=int(data["mode"], 8),
            uid=data["uid"],
            gid=data["gid"],
            size=data.get("size", 0),
            sha256=data.get("sha256"),
            target=data.get("target"),
            hardlink=data.get("hardlink"),
            mtime=data.get("mtime"),
        )


class HistoryItem(msgspec.Struct, frozen=True):
    created_by: str
    empty_layer: bool


class ImageSnapshot(msgspec.Struct, frozen=True):
    """What is compared of an image: config fields, history, layer count, files."""

    config: Mapping[str, Any]
    history: tuple[HistoryItem, ...]
    layers: int
    files: Mapping[str, FileEntry] = msgspec.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "config": {name: self.config.get(name) for name in CONFIG_FIELDS},
            "history": [
                {"created_by": h.created_by, "empty_layer": h.empty_layer} for h in self.history
            ],
            "layers": self.layers,
            "files": {path: self.files[path].to_json() for path in sorted(self.files)},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImageSnapshot:
        return cls(
            config=dict(data["config"]),
            history=tuple(HistoryItem(h["created_by"], h["empty_layer"]) for h in data["history"]),
            layers=data["layers"],
            files={p: FileEntry.from_json(e) for p, e in data["files"].items()},
        )


# --------------------------------------------------------------------------- JSON files


def dumps_snapshot(snapshot: ImageSnapshot) -> str:
    """Render as stable JSON with one file entry per line (readable diffs in git)."""
    data = snapshot.to_json()
    files = data.pop("files")
    head = json.dumps(data, indent=1, sort_keys=True)
    lines = [f" {json.dumps(p)}: {json.dumps(e, sort_keys=True)}" for p, e in files.items()]
    body = ",\n".join(lines)
    return head[:-2] + ',\n "files": {\n' + body + "\n }\n}\n"


def load_snapshot(path: Path) -> ImageSnapshot:
    """Read a snapshot JSON file.

    Raises:
        ArchiveError: the file is not a snapshot.
    """
    try:
        return ImageSnapshot.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArchiveError(f"reading snapshot {path}: {exc}") from exc


# --------------------------------------------------------------------------- layers → files


class _Node(msgspec.Struct):
    """A mutable inode while layers are applied (hardlinks share one node)."""

    type: str
    mode: int
    uid: int
    gid: int
    size: int = 0
    sha256: str | None = None
    target: str | None = None
    mtime: int | None = None


def _clean(name: str) -> str:
    """Absolute normalised form of a tar member name (``./a/b/`` → ``/a/b``)."""
    path = posixpath.normpath("/" + name)
    return "/" if path == "//" else path


def _under(path: str, parent: str) -> bool:
    return path.startswith(parent.rstrip("/") + "/")


class _Merger:
    """Applies layer tars in order to an in-memory tree of :class:`_Node`."""

    def __init__(self) -> None:
        self.tree: dict[str, _Node] = {}

    def apply(self, stream: IO[bytes]) -> None:
        """Apply one (possibly compressed) layer tar.

        Raises:
            ArchiveError: the tar is corrupt or refers to a missing link target.
        """
        try:
            with tarfile.open(fileobj=open_decompressed(stream), mode="r|") as tar:  # type: ignore[arg-type]
                pending = [self._read(tar, member) for member in tar]
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"reading layer tar: {exc}") from exc
        for path, _member, _node in pending:
            if posixpath.basename(path).startswith(_WHITEOUT):
                self._whiteout(path)
        for path, member, node in pending:
            if not posixpath.basename(path).startswith(_WHITEOUT):
                self._add(path, member, node)

    def _read(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> tuple[str, Any, _Node | None]:
        path = _clean(member.name)
        if member.islnk():
            return path, _clean(member.linkname), None
        kind = _TYPES.get(member.type)
        if kind is None:
            raise ArchiveError(
                f"reading layer tar: {member.name}: unsupported type {member.type!r}"
            )
        node = _Node(kind, member.mode & 0o7777, member.uid, member.gid)
        mtime = int(member.mtime)
        # a directory's mtime moves whenever something is written into it, and
        # BuildKit and the classic builder differ there: only non-dirs keep theirs
        if kind != "dir" and mtime in DEFINED_MTIMES:
            node.mtime = mtime
        if kind == "symlink":
            node.target = member.linkname
        if kind == "file":
            node.size, node.sha256 = member.size, _sha256(tar.extractfile(member))
        return path, member, node

    def _whiteout(self, path: str) -> None:
        parent, name = posixpath.split(path)
        if name == _OPAQUE:
            self._drop_children(parent)
            return
        victim = posixpath.join(parent, name[len(_WHITEOUT) :])
        self.tree.pop(victim, None)
        self._drop_children(victim)

    def _drop_children(self, parent: str) -> None:
        for path in [p for p in self.tree if _under(p, parent)]:
            del self.tree[path]

    def _add(self, path: str, member: Any, node: _Node | None) -> None:
        if path == "/":
            return
        if node is None:  # hardlink: share the target's inode
            target = self.tree.get(member)
            if target is None:
                raise ArchiveError(f"reading layer tar: hardlink {path} to missing {member}")
            node = target
        old = self.tree.get(path)
        if old is not None and old.type == "dir" and node.type != "dir":
            self._drop_children(path)
        self.tree[path] = node

    def entries(self) -> dict[str, FileEntry]:
        groups: dict[int, list[str]] = {}
        for path, node in self.tree.items():
            groups.setdefault(id(node), []).append(path)
        out: dict[str, FileEntry] = {}
        for path, node in self.tree.items():
            links = groups[id(node)]
            leader = min(links) if len(links) > 1 else None
            out[path] = _entry(node, leader)
        return out


def _entry(node: _Node, leader: str | None) -> FileEntry:
    return FileEntry(
        node.type,
        node.mode,
        node.uid,
        node.gid,
        node.size,
        node.sha256,
        node.target,
        leader,
        node.mtime,
    )


def _sha256(stream: IO[bytes] | None) -> str:
    digest = hashlib.sha256()
    if stream is not None:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def snapshot_from_parts(config_json: bytes, layers: Iterable[IO[bytes]]) -> ImageSnapshot:
    """Build a snapshot from an image config (raw JSON) and its layer streams, bottom first.

    Raises:
        ArchiveError: the config is not JSON or a layer is not a readable tar.
    """
    try:
        image = json.loads(config_json)
    except ValueError as exc:
        raise ArchiveError(f"reading image config: {exc}") from exc
    merger = _Merger()
    count = 0
    for stream in layers:
        merger.apply(stream)
        count += 1
    config = image.get("config") or {}
    history = tuple(
        HistoryItem(h.get("created_by", ""), bool(h.get("empty_layer", False)))
        for h in image.get("history") or ()
    )
    return ImageSnapshot(
        config={name: config.get(name) for name in CONFIG_FIELDS},
        history=history,
        layers=count,
        files=merger.entries(),
    )


# --------------------------------------------------------------------------- archives


def snapshot_docker_archive(path: Path, ref: str | None = None) -> ImageSnapshot:
    """Snapshot one image of a docker-archive (``docker save`` format, legacy or OCI-flavoured).

    ``ref`` selects by RepoTags entry; without it the archive must hold exactly one image.

    Raises:
        ArchiveError: not a docker-archive, or ``ref`` not found / ambiguous.
    """
    try:
        with tarfile.open(path) as outer:
            entry = _pick_manifest(json.loads(_member_bytes(outer, "manifest.json")), ref)
            config = _member_bytes(outer, entry["Config"])
            return snapshot_from_parts(config, _member_streams(outer, entry["Layers"]))
    except (tarfile.TarError, OSError, ValueError, KeyError) as exc:
        raise ArchiveError(f"reading docker-archive {path}: {exc}") from exc


def _pick_manifest(manifest: list[dict[str, Any]], ref: str | None) -> dict[str, Any]:
    if ref is None:
        if len(manifest) != 1:
            raise ArchiveError(f"reading docker-archive: {len(manifest)} images, name one")
        return manifest[0]
    for entry in manifest:
        if ref in (entry.get("RepoTags") or ()):
            return entry
    raise ArchiveError(f"reading docker-archive: no image tagged {ref}")


def _member_bytes(outer: tarfile.TarFile, name: str) -> bytes:
    stream = outer.extractfile(name)
    if stream is None:
        raise ArchiveError(f"reading docker-archive: {name} is not a file")
    return stream.read()


def _member_streams(outer: tarfile.TarFile, names: list[str]) -> Iterator[IO[bytes]]:
    for name in names:
        stream = outer.extractfile(name)
        if stream is None:
            raise ArchiveError(f"reading docker-archive: layer {name} is not a file")
        yield stream


def snapshot_oci_layout(layout: Path, config_digest: str) -> ImageSnapshot:
    """Snapshot the image whose config has ``config_digest`` (the image ID) in an OCI layout.

    Manifests are looked up in ``index.json`` (one level of nested indexes too).

    Raises:
        ArchiveError: no manifest with that config, or a blob is missing or unreadable.
    """
    blobs = layout / "blobs"

    def blob(digest: str) -> Path:
        algorithm, _, hexpart = digest.partition(":")
        return blobs / algorithm / hexpart

    try:
        manifest = _find_manifest(layout, blob, config_digest)
        config = blob(manifest["config"]["digest"]).read_bytes()
        handles = [blob(d["digest"]).open("rb") for d in manifest["layers"]]
        try:
            return snapshot_from_parts(config, handles)
        finally:
            for handle in handles:
                handle.close()
    except (OSError, ValueError, KeyError) as exc:
        raise ArchiveError(f"reading OCI layout {layout}: {exc}") from exc


def _find_manifest(layout: Path, blob: Any, config_digest: str) -> dict[str, Any]:
    todo = list(json.loads((layout / "index.json").read_text()).get("manifests", []))
    while todo:
        doc = json.loads(blob(todo.pop(0)["digest"]).read_text())
        if "manifests" in doc:
            todo.extend(doc["manifests"])
        elif doc.get("config", {}).get("digest") == config_digest:
            return doc
    raise ArchiveError(f"reading OCI layout {layout}: no image with config {config_digest}")

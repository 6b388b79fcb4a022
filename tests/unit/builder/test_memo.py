"""The no-op replay's record: written by ``record``, checked and replayed by ``replay``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hoist.builder import events as ev
from hoist.builder.memo import Inputs, memo_identity, memo_key, record, replay
from hoist.builder.options import BuildOptions
from hoist.builder.result import BuildResult, StepResult

IMAGE = "sha256:" + "a" * 64
BASE = "sha256:" + "b" * 64
FULL = "docker.io/library/app:latest"
REF = ev.StepRef(1, 2, "0", 1, 2, "FROM base", 1)
COPY = ev.StepRef(2, 2, "0", 2, 2, "COPY f .", 2)


class _Store:
    """The one method ``record`` uses, writing the table ``replay`` reads."""

    def __init__(self, root: Path) -> None:
        self.conn = sqlite3.connect(root / "hoist.db")
        self.conn.executescript(
            "CREATE TABLE build_cache (key TEXT PRIMARY KEY, components TEXT);"
            "CREATE TABLE tags (name TEXT PRIMARY KEY, image_id TEXT);"
            "CREATE TABLE images (id TEXT PRIMARY KEY);"
        )

    def cache_put(self, key: str, image_id: str, components: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO build_cache VALUES (?, ?)", (key, components))
        self.conn.execute("INSERT OR IGNORE INTO images VALUES (?)", (image_id,))
        self.conn.commit()


def _recorded(tmp_path: Path, identity: str) -> tuple[Path, Path]:
    root, source = tmp_path / "store", tmp_path / "f"
    root.mkdir()
    source.write_text("1\n")
    store = _Store(root)
    store.conn.execute("INSERT INTO images VALUES (?)", (BASE,))
    store.conn.execute("INSERT INTO tags VALUES ('docker.io/library/base:latest', ?)", (BASE,))
    store.conn.execute("INSERT INTO tags VALUES (?, ?)", (FULL, IMAGE))
    inputs = Inputs()
    inputs.path(source)
    inputs.base("docker.io/library/base:latest", BASE)
    steps = [
        ev.StepDone(REF, BASE, cached=False, seconds=0.1),
        ev.StepDone(COPY, IMAGE, cached=False, seconds=0.2),
    ]
    result = BuildResult(IMAGE, ("app:latest",), (), 0.3, ("a warning",))
    record(store, identity, result, inputs, steps, {"app": (FULL, "app:latest")})
    return root, source


def _identity(dockerfile: bytes = b"FROM base\nCOPY f .\n", **options: str) -> str:
    return memo_identity(BuildOptions(context="/ctx", **options), dockerfile, "/ctx/Dockerfile",
                         "/ctx")


def test_an_unchanged_build_is_replayed(tmp_path: Path) -> None:
    root, _ = _recorded(tmp_path, _identity())
    sink = ev.ListSink()
    result = replay(str(root), _identity(), ["app"], sink)
    assert result is not None
    assert result.image_id == IMAGE and result.tags == ("app:latest",)
    assert result.warnings == ("a warning",)
    assert result.steps == (
        StepResult(1, "0", "FROM base", 1, False, BASE, 0.0),
        StepResult(2, "0", "COPY f .", 2, True, IMAGE, 0.0),
    )
    assert [type(e).__name__ for e in sink.events] == [
        "BuildWarning", "BuildStarted", "StepStarted", "StepDone",
        "StepStarted", "StepCached", "StepDone", "BuildDone",
    ]


def test_each_difference_refuses_the_replay(tmp_path: Path) -> None:
    root, source = _recorded(tmp_path, _identity())
    assert replay(str(root), _identity(), ["app", "app:v2"], ev.NullSink()) is None  # new tag
    assert replay(str(root), _identity(b"FROM base\nCOPY f ./\n"), [], ev.NullSink()) is None
    assert replay(str(root), _identity(target="t"), [], ev.NullSink()) is None
    source.write_text("2\n")
    assert replay(str(root), _identity(), ["app"], ev.NullSink()) is None


def test_a_key_collision_is_not_a_replay(tmp_path: Path) -> None:
    """The key is a CRC: the record's own identity decides."""
    mine, other = _identity(), _identity(network="none")
    root, _ = _recorded(tmp_path, other)
    store = sqlite3.connect(root / "hoist.db")
    store.execute("UPDATE build_cache SET key=? WHERE key=?", (memo_key(mine), memo_key(other)))
    store.commit()
    assert replay(str(root), other, ["app"], ev.NullSink()) is None  # moved away
    assert replay(str(root), mine, ["app"], ev.NullSink()) is None  # found, but not mine


def test_the_identity_holds_the_dockerfile_bytes_exactly() -> None:
    assert _identity(b"FROM base\xff\n") != _identity(b"FROM base\xfe\n")
    assert memo_key(_identity()) == memo_key(_identity())
    assert memo_key(_identity()).startswith("memo:crc32:")

"""The no-op path's read-only store look-ups: answers, and "don't know" on any doubt."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hoist.store.quick import QuickReader

IMAGE = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


def _db(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(root / "hoist.db")
    conn.executescript(
        "CREATE TABLE build_cache (key TEXT PRIMARY KEY, components TEXT);"
        "CREATE TABLE tags (name TEXT PRIMARY KEY, image_id TEXT);"
        "CREATE TABLE images (id TEXT PRIMARY KEY);"
    )
    conn.execute("INSERT INTO build_cache VALUES ('memo:k', '{\"a\": 1}')")
    conn.execute("INSERT INTO tags VALUES ('docker.io/library/app:latest', ?)", (IMAGE,))
    conn.execute("INSERT INTO images VALUES (?)", (IMAGE,))
    conn.commit()
    conn.close()
    return root


def test_answers_from_the_database(tmp_path: Path) -> None:
    with QuickReader(str(_db(tmp_path / "store"))) as reader:
        assert reader.build_record("memo:k") == '{"a": 1}'
        assert reader.build_record("memo:other") is None
        assert reader.tag_targets(["docker.io/library/app:latest", "x"]) == {
            "docker.io/library/app:latest": IMAGE,
            "x": None,
        }
        assert reader.images_exist([IMAGE, IMAGE])
        assert reader.images_exist([])
        assert not reader.images_exist([IMAGE, OTHER])


def test_no_database_is_dont_know(tmp_path: Path) -> None:
    with QuickReader(tmp_path / "absent") as reader:
        assert reader.build_record("memo:k") is None
        assert reader.tag_targets(["a"]) == {"a": None}
        assert not reader.images_exist([IMAGE])


def test_a_damaged_database_is_dont_know(tmp_path: Path) -> None:
    (tmp_path / "hoist.db").write_bytes(b"not a database" * 100)
    with QuickReader(tmp_path) as reader:
        assert reader.build_record("memo:k") is None
        assert not reader.images_exist([IMAGE])


def test_the_reader_never_writes(tmp_path: Path) -> None:
    root = _db(tmp_path / "store")
    with QuickReader(root) as reader:
        assert reader.build_record("memo:k") is not None
    assert sorted(p.name for p in root.iterdir()) == ["hoist.db"]

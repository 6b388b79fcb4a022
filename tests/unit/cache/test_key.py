from __future__ import annotations

from hoist.cache.key import canonical_json, content_key, explain_miss, step_key


def test_canonical_json_is_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == canonical_json({"a": [1, "é"], "b": 1})
    assert canonical_json({"a": 1}) == b'{"a":1}'


def test_key_changes_with_each_component() -> None:
    parent = content_key(["sha256:" + "1" * 64], {"Env": []}, "linux/amd64")
    instr = {"kind": "RUN", "args": ["sh", "-c", "echo hi"]}
    key = step_key(parent, instr, build_args={"A": "1"})
    assert key == step_key(parent, dict(instr), build_args={"A": "1"})
    assert key.digest != step_key(parent, instr, build_args={"A": "2"}).digest
    assert key.digest != step_key(parent, {**instr, "args": ["x"]}, build_args={"A": "1"}).digest
    other_parent = content_key(["sha256:" + "2" * 64], {"Env": []}, "linux/amd64")
    assert key.digest != step_key(other_parent, instr, build_args={"A": "1"}).digest
    with_source = step_key(
        parent, instr, build_args={"A": "1"}, sources=[{"path": "a", "sum": "x"}]
    )
    assert key.digest != with_source.digest


def test_explain_miss_names_what_changed() -> None:
    parent = content_key(["sha256:" + "1" * 64], {"Env": []}, "linux/amd64")
    old = step_key(
        parent, {"kind": "COPY"}, build_args={"V": "1"}, sources=[{"path": "a", "sum": "1"}]
    )
    new = step_key(
        parent, {"kind": "COPY"}, build_args={"V": "2"}, sources=[{"path": "a", "sum": "2"}]
    )
    reason = explain_miss(new.components, old.components)
    assert "build arg changed: V" in reason
    assert "source changed: a" in reason
    assert explain_miss(new.components, None) == "no earlier build of this step"


def test_content_key_ignores_nothing_that_matters() -> None:
    one = content_key(["sha256:" + "1" * 64], {"Env": ["A=1"]}, "linux/amd64")
    assert one == content_key(["sha256:" + "1" * 64], {"Env": ["A=1"]}, "linux/amd64")
    assert one != content_key(["sha256:" + "1" * 64], {"Env": ["A=2"]}, "linux/amd64")
    assert one != content_key([], {"Env": ["A=1"]}, "linux/amd64")
    assert one != content_key(["sha256:" + "1" * 64], {"Env": ["A=1"]}, "linux/arm64")


def test_explain_miss_names_the_files_inside_a_directory_source() -> None:
    parent = content_key([], {}, "linux/amd64")
    files = {".": "d1", "src": "d2", "src/app.js": "f1", "README": "f2"}
    old = step_key(
        parent, {"kind": "COPY"}, build_args={}, sources=[{"path": ".", "sum": "a", "files": files}]
    )
    edited = {**files, ".": "d3", "src": "d4", "src/app.js": "f9", "new.txt": "f3"}
    new = step_key(
        parent,
        {"kind": "COPY"},
        build_args={},
        sources=[{"path": ".", "sum": "b", "files": edited}],
    )
    assert explain_miss(new.components, old.components) == "source changed: new.txt, src/app.js"


def test_explain_miss_names_an_add_url_whose_content_changed() -> None:
    parent = content_key([], {}, "linux/amd64")
    url = "http://127.0.0.1:8765/app.tgz"
    old = step_key(parent, {"kind": "ADD"}, build_args={},
                   sources=[{"url": url, "sha256": "1", "mtime_ns": 1}])  # fmt: skip
    new = step_key(parent, {"kind": "ADD"}, build_args={},
                   sources=[{"url": url, "sha256": "2", "mtime_ns": 1}])  # fmt: skip
    assert explain_miss(new.components, old.components) == f"source changed: {url}"

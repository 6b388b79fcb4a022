"""Build events are named tuples that behave as values of their own kind."""

from __future__ import annotations

from unittest import mock

import pytest

from hoist.builder import events as ev
from hoist.cli.render.jsonl import event_to_dict

REF = ev.StepRef(2, 3, "0", 2, 3, "RUN echo hi", 2)
CID = "3a4b81250301" + "f" * 52


def test_events_of_different_kinds_with_the_same_fields_differ() -> None:
    started, removed = ev.ContainerStarted(REF, CID), ev.ContainerRemoved(REF, CID)
    assert started != removed and not started == removed  # noqa: SIM201
    assert ev.StepCached(REF, "sha256:x") != ev.ContainerKept(REF, "sha256:x")
    assert len({started, removed}) == 2


def test_events_are_not_equal_to_plain_tuples() -> None:
    assert ev.StepStarted(REF) != (REF,)
    assert tuple(REF) != REF and REF != tuple(REF)  # noqa: SIM300
    assert ev.BuildDone("sha256:x") != ("sha256:x", (), 0.0)


def test_events_leave_other_objects_their_say() -> None:
    assert ev.StepStarted(REF) == mock.ANY and not ev.StepStarted(REF) != mock.ANY  # noqa: SIM202
    assert ev.StepStarted(REF) != 3 and ev.StepStarted(REF) != "step-started"


def test_equal_events_are_equal_and_hash_alike() -> None:
    a = ev.StepDone(REF, "sha256:x", cached=True, seconds=0.0)
    b = ev.StepDone(REF, "sha256:x", True, 0.0, None)
    assert a == b and hash(a) == hash(b)
    assert a != a._replace(cached=False)


def test_events_are_immutable() -> None:
    event = ev.StepCached(REF, "sha256:x")
    with pytest.raises(AttributeError):
        event.image_id = "sha256:y"  # type: ignore[misc]


def test_kind_is_a_class_attribute_not_a_field() -> None:
    event = ev.StepFailed(REF, "boom", 0.5)
    assert event.kind == "step-failed" and "kind" not in event._fields


def test_events_match_by_keyword_patterns() -> None:
    match ev.StepOutput(REF, "stderr", b"oops"):
        case ev.StepDone():
            matched = "done"
        case ev.StepOutput(stream=stream, data=data):
            matched = f"{stream}:{data.decode()}"
    assert matched == "stderr:oops"


def test_json_form_has_the_fields_and_the_kind() -> None:
    body = event_to_dict(ev.StepOutput(REF, "stdout", b"hi\xff"))
    assert set(body) == {"event", "time", "step", "stream", "data"}
    assert body["event"] == "step-output" and body["data"] == "hi\ufffd"
    assert body["step"] == {
        "number": 2,
        "total": 3,
        "stage": "0",
        "stage_position": 2,
        "stage_total": 3,
        "text": "RUN echo hi",
        "line": 2,
        "triggers": 0,
        "cli_label": False,
        "vertex": "",
    }
    assert event_to_dict(ev.BuildDone("sha256:x", ("a:1",)))["tags"] == ["a:1"]

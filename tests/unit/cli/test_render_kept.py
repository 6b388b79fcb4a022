"""A kept container: the classic view prints no "Removing intermediate container"; JSON says so."""

from __future__ import annotations

import io
import json

from hoist.builder import events as ev
from hoist.cli.render import make_renderer

CID = "3a4b81250301" + "f" * 52
STEP = ev.StepRef(1, 1, "0", 1, 1, "RUN make", 2)


def render(mode: str) -> str:
    out = io.StringIO()
    renderer = make_renderer(mode, out, quiet=False)
    for event in (ev.StepStarted(STEP), ev.ContainerStarted(STEP, CID), ev.ContainerKept(STEP, CID),
                  ev.StepDone(STEP, "sha256:" + "1" * 64, cached=False, seconds=0.1)):
        renderer.emit(event)
    renderer.close()
    return out.getvalue()


def test_classic_prints_nothing_for_a_kept_container() -> None:
    assert render("classic").splitlines() == [
        "Step 1/1 : RUN make", " ---> Running in 3a4b81250301", " ---> 111111111111"]


def test_json_has_a_container_kept_event() -> None:
    lines = [json.loads(line) for line in render("json").splitlines()]
    kept = [line for line in lines if line["event"] == "container-kept"]
    assert len(kept) == 1 and kept[0]["container_id"] == CID

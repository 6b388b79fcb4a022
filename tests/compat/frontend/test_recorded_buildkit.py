"""The frontend against what Docker 20.10's BuildKit recorded (tests/compat/cases/*/buildkit.json).

For every recorded case: plan the build, evaluate each instruction the way
the engine will, and compare the history ``created_by`` strings, which
entries are ``empty_layer``, and the config fields the frontend decides.
No build runs: this checks the pure frontend only (hoist.plan), so it runs
without root and without the engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hoist.dockerfile import parse
from hoist.plan import (
    config_fields,
    created_by,
    creates_layer,
    evaluate,
    inherit,
    onbuild_triggers,
    plan_build,
    state_from_config,
)
from hoist.plan.state import StageState

COMPAT = Path(__file__).resolve().parents[1]
CASES = sorted(p for p in (COMPAT / "cases").iterdir() if (p / "buildkit.json").exists())
FIELDS = ("Env", "Cmd", "Entrypoint", "Shell", "WorkingDir", "User", "Labels", "ExposedPorts",
          "Volumes", "StopSignal", "Healthcheck", "OnBuild")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _simulate(case: Path) -> tuple[list[tuple[str, bool]], StageState]:
    options = _load(case / "build.json") if (case / "build.json").exists() else {}
    df = parse((case / options.get("dockerfile", "Dockerfile")).read_text())
    plan = plan_build(df, target=options.get("target"), build_args=options.get("build_args", {}))
    base = _load(COMPAT / "base" / "buildkit.json")
    base_history = [(h["created_by"], h.get("empty_layer", False)) for h in base["history"]]
    finals: dict[int, tuple[list[tuple[str, bool]], StageState]] = {}
    for planned in plan.stages:
        if planned.base_stage is None:
            history, state = list(base_history), state_from_config(base["config"], plan.scope)
            triggers: tuple[Any, ...] = ()
        else:
            history, parent = finals[planned.base_stage]
            history, state = list(history), inherit(parent, plan.scope)
            triggers = onbuild_triggers(parent.onbuild)
        for instr in (*triggers, *planned.stage.instructions):
            expanded, after = evaluate(instr, state, df)
            text = created_by(expanded, state, after)
            if text is not None:
                history.append((text, not creates_layer(expanded, after.workdir)))
            state = after
        finals[planned.index] = (history, state)
    return finals[plan.target]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_history_matches_recorded_buildkit(case: Path) -> None:
    recorded = _load(case / "buildkit.json")
    history, _ = _simulate(case)
    assert [text for text, _ in history] == [h["created_by"] for h in recorded["history"]]
    for (_, empty), entry in zip(history, recorded["history"], strict=True):
        assert empty == entry.get("empty_layer", False), entry["created_by"]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_config_matches_recorded_buildkit(case: Path) -> None:
    recorded = _load(case / "buildkit.json")["config"]
    _, state = _simulate(case)
    ours = config_fields(state)
    assert {k: ours[k] for k in FIELDS} == {k: recorded.get(k) for k in FIELDS}

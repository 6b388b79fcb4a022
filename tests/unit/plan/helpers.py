"""Run a stage's instructions through the evaluator, as the engine does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoist.dockerfile import Instruction, parse
from hoist.models.platform import Platform
from hoist.plan import BuildPlan, evaluate, plan_build, state_from_config
from hoist.plan.state import StageState

BASE_CONFIG = {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"], "WorkingDir": "/"}
AMD64 = Platform("linux", "amd64")


def run_stage(text: str, build_args: Mapping[str, str] | None = None, *,
              target: str | None = None, config: Mapping[str, Any] | None = None,
              ) -> tuple[BuildPlan, list[tuple[Instruction, StageState, StageState]]]:
    """Plan ``text`` and evaluate the target stage; return (plan, [(expanded, before, after)])."""
    df = parse(text)
    plan = plan_build(df, target=target, build_args=build_args or {}, platform=AMD64,
                      build_platform=AMD64)
    state = state_from_config(BASE_CONFIG if config is None else config, plan.scope)
    steps = []
    for instr in plan.stage(plan.target).stage.instructions:
        expanded, after = evaluate(instr, state, df)
        steps.append((expanded, state, after))
        state = after
    return plan, steps

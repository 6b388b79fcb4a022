"""Planning, pure: ARG/ENV scoping, stage resolution, step evaluation, config values.

Public API::

    from hoist.plan import plan_build, evaluate, state_from_config, created_by
    plan = plan_build(dockerfile, target="app", build_args={"V": "1"},
                      platform=Platform.parse("linux/amd64"))
    plan.stages            # PlannedStage(stage, base (expanded), base_stage, platform,
                           #   depends_on, images), dependencies first
    plan.unused_build_args # for "[Warning] build-args were not consumed"
    state = state_from_config(base_image_config_or_None, plan.scope)
    for instr in planned.stage.instructions:
        expanded, after = evaluate(instr, state, dockerfile)   # BuildKit's expansions
        created_by(expanded, state, after)                      # history string or None
        state = after
    state.run_env()               # env a RUN sees (ENV + ARGs in scope + proxy args)
    state.build_args_reaching()   # cache-key input
    run_argv(run, state.shell)    # argv of a RUN (SHELL applied to shell form)
    heredoc_script(run)           # a #! heredoc the engine must mount at /dev/pipes/<name>
    plan.warnings                 # e.g. unconsumed build args, docker's wording
    container_argv(state.entrypoint, state.cmd)
    config_fields(state)          # docker config keys (Env, Cmd, …) from a state
    inherit(parent_final_state)   # start state of FROM <stage> (run its onbuild first)
    onbuild_triggers(parent_config["OnBuild"])   # instructions to run after FROM

State fields map to docker config keys: env→Env, cmd→Cmd, entrypoint→Entrypoint,
shell→Shell, workdir→WorkingDir, user→User, labels→Labels,
exposed_ports→ExposedPorts, volumes→Volumes, stop_signal→StopSignal,
healthcheck→Healthcheck, onbuild→OnBuild, author→author.
"""

from __future__ import annotations

from hoist.plan.config import (
    container_argv,
    created_by,
    creates_layer,
    go_duration,
    go_quote,
    onbuild_triggers,
)
from hoist.plan.evaluate import (
    command_config,
    evaluate,
    heredoc_script,
    resolve_workdir,
    run_argv,
)
from hoist.plan.planner import BuildPlan, Dependency, PlannedStage, plan_build, platform_args
from hoist.plan.state import (
    DEFAULT_SHELL,
    PLATFORM_ARGS,
    PROXY_ARGS,
    Scope,
    StageState,
    config_fields,
    inherit,
    state_from_config,
)

__all__ = [
    "DEFAULT_SHELL", "PLATFORM_ARGS", "PROXY_ARGS", "BuildPlan", "Dependency", "PlannedStage",
    "Scope", "StageState", "command_config", "config_fields", "container_argv", "created_by",
    "creates_layer", "evaluate", "go_duration", "go_quote", "heredoc_script", "inherit",
    "onbuild_triggers", "plan_build", "platform_args", "resolve_workdir", "run_argv",
    "state_from_config",
]

"""ARG/ENV scoping and per-instruction expansion (issue 3, items 3 and 4)."""

from __future__ import annotations

import pytest

from hoist.dockerfile import Copy, Env, Label, Run, User, Workdir
from hoist.errors import DockerfileError
from hoist.plan import created_by
from tests.unit.plan.helpers import run_stage


def test_env_sees_values_from_before_the_instruction() -> None:
    _, steps = run_stage("FROM b\nENV a=0\nENV a=1 b=$a\nENV c=$a\n")
    env = dict(steps[-1][2].env)
    assert (env["a"], env["b"], env["c"]) == ("1", "0", "1")


def test_env_legacy_form_and_quotes() -> None:
    _, steps = run_stage('FROM b\nENV A=1 B="two words" C=three\\ words\nENV L value  with x\n')
    env = dict(steps[-1][2].env)
    assert (env["B"], env["C"], env["L"]) == ("two words", "three words", "value  with x")


def test_global_arg_is_visible_only_in_from_until_redeclared() -> None:
    text = "ARG V=1.0\nFROM busybox:$V\nRUN echo $V\nENV BEFORE=${V:-unset}\nARG V\nENV AFTER=$V\n"
    plan, steps = run_stage(text)
    assert plan.stages[0].base == "busybox:1.0"
    env = dict(steps[-1][2].env)
    assert env["BEFORE"] == "unset" and env["AFTER"] == "1.0"
    assert "V" not in dict(steps[0][1].run_env())


def test_build_arg_overrides_default_and_env_overrides_arg() -> None:
    text = "FROM b\nARG A=default\nARG B=default\nENV B=from-env\nENV OUT_A=$A OUT_B=$B\nRUN x\n"
    _, steps = run_stage(text, {"A": "cli", "B": "cli"})
    env = dict(steps[3][2].env)
    assert (env["OUT_A"], env["OUT_B"]) == ("cli", "from-env")
    run_env = dict(steps[4][1].run_env())
    assert run_env["A"] == "cli" and run_env["B"] == "from-env"


def test_arg_without_value_is_not_in_the_environment() -> None:
    _, steps = run_stage("FROM b\nARG NOVALUE\nRUN true\n")
    state = steps[1][1]
    assert "NOVALUE" not in dict(state.run_env())
    assert state.build_args_reaching() == ()


def test_arg_defaults_see_earlier_args_in_the_same_stage() -> None:
    _, steps = run_stage("FROM b\nARG A=x\nARG B=${A}y\nENV OUT=$B\n")
    assert dict(steps[-1][2].env)["OUT"] == "xy"


def test_proxy_args_reach_run_without_declaration_but_not_history() -> None:
    _, steps = run_stage("FROM b\nRUN curl x\nARG HTTP_PROXY\nRUN curl y\n",
                         {"HTTP_PROXY": "http://p:3128", "UNUSED": "1"})
    run1, before1, after1 = steps[0]
    env = dict(before1.run_env())
    assert env["HTTP_PROXY"] == env["http_proxy"] == "http://p:3128"
    assert "UNUSED" not in env
    assert before1.build_args_reaching() == ()  # proxies stay out of the cache key
    assert created_by(run1, before1, after1) == "RUN /bin/sh -c curl x # buildkit"
    run2, before2, after2 = steps[2]
    assert created_by(run2, before2, after2) == (
        "RUN |1 HTTP_PROXY=http://p:3128 /bin/sh -c curl y # buildkit")


def test_proxy_args_in_any_case_and_default_path() -> None:
    _, steps = run_stage("FROM b\nRUN x\n", {"No_Proxy": "localhost"}, config={"Env": []})
    state = steps[0][1]
    env = state.run_env()
    assert env[:1] == (("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),)
    assert dict(env)["NO_PROXY"] == dict(env)["no_proxy"] == "localhost"
    assert "No_Proxy" not in dict(env)


def test_proxy_args_are_not_expanded_without_declaration() -> None:
    _, steps = run_stage("FROM b\nENV P=x$HTTP_PROXY\n", {"HTTP_PROXY": "h"})
    assert dict(steps[0][2].env)["P"] == "x"


def test_platform_args_global_and_declared() -> None:
    text = ("FROM --platform=$BUILDPLATFORM busybox:$TARGETARCH AS b\n"
            "ENV BEFORE=x$TARGETOS\nARG TARGETOS\nARG TARGETPLATFORM\n"
            "ENV AFTER=$TARGETOS/$TARGETPLATFORM\n")
    plan, steps = run_stage(text)
    assert plan.stages[0].base == "busybox:amd64"
    assert plan.stages[0].platform == "linux/amd64"
    env = dict(steps[-1][2].env)
    assert env["BEFORE"] == "x" and env["AFTER"] == "linux/linux/amd64"


def test_platform_args_beat_declared_defaults_but_not_build_args() -> None:
    text = "ARG TARGETARCH=x\nFROM b:$TARGETARCH\nARG TARGETOS=y\nENV OS=$TARGETOS\n"
    plan, steps = run_stage(text)
    assert plan.stages[0].base == "b:amd64"
    assert dict(steps[-1][2].env)["OS"] == "linux"
    _, steps = run_stage(text, {"TARGETOS": "plan9"})
    assert dict(steps[-1][2].env)["OS"] == "plan9"


def test_unused_build_args_are_reported() -> None:
    text = "ARG G\nFROM b AS one\nARG USED_ONE\nFROM b AS two\nARG USED_TWO\n"
    plan, _ = run_stage(text, {"G": "1", "USED_ONE": "1", "USED_TWO": "1", "NOPE": "1",
                               "HTTPS_PROXY": "x"}, target="one")
    assert plan.unused_build_args == ("NOPE", "USED_TWO")
    assert plan.warnings == ("[Warning] One or more build-args [NOPE USED_TWO] were not consumed",)


def test_expansion_in_copy_flags_and_words() -> None:
    text = ("FROM b\nARG U=app M=0755 S=src D=/dst\n"
            "COPY --chown=$U:$U --chmod=$M --exclude=*.$S \"$S\" ${D}/\n")
    _, steps = run_stage(text)
    copy = steps[-1][0]
    assert isinstance(copy, Copy)
    assert (copy.chown, copy.chmod, copy.sources, copy.dest, copy.exclude) == (
        "app:app", "0755", ("src",), "/dst/", ("*.src",))


def test_bad_chmod_after_expansion_names_the_line() -> None:
    with pytest.raises(DockerfileError) as info:
        run_stage("FROM b\nARG M=9\nCOPY --chmod=$M a b\n")
    assert info.value.line == 3 and "chmod" in info.value.message


def test_run_command_is_not_expanded_but_mount_values_are() -> None:
    _, steps = run_stage("FROM b\nARG ID=pip\nRUN --mount=type=cache,id=$ID,target=/c echo $ID\n")
    run = steps[-1][0]
    assert isinstance(run, Run)
    assert run.command == ("echo $ID",) and run.mounts[0].id == "pip"


def test_workdir_user_label_expansion() -> None:
    text = "FROM b\nENV D=/srv N=app\nWORKDIR $D\nWORKDIR sub/../x\nUSER $N\nLABEL $N=\"$D v\"\n"
    _, steps = run_stage(text)
    assert isinstance(steps[1][0], Workdir) and steps[2][2].workdir == "/srv/x"
    assert isinstance(steps[3][0], User) and steps[3][2].user == "app"
    label = steps[4][0]
    assert isinstance(label, Label) and label.pairs == (("app", "/srv v"),)


def test_copy_heredoc_body_expanded_unless_quoted() -> None:
    text = "FROM b\nENV A=1\nCOPY <<X <<'Y' /d/\n$A \"q\"\nX\n$A\nY\n"
    _, steps = run_stage(text)
    copy = steps[-1][0]
    assert isinstance(copy, Copy)
    assert [h.content for h in copy.heredocs] == ['1 "q"\n', "$A\n"]


def test_env_order_keeps_replaced_keys_in_place() -> None:
    _, steps = run_stage("FROM b\nENV A=1\nENV PATH=/x:$PATH\n")
    assert [k for k, _ in steps[-1][2].env] == ["PATH", "A"]
    assert dict(steps[-1][2].env)["PATH"] == "/x:/usr/bin:/bin"
    env_instr = steps[-1][0]
    assert isinstance(env_instr, Env)


def test_expansion_error_is_located() -> None:
    with pytest.raises(DockerfileError) as info:
        run_stage("FROM b\nENV A=\"${B:?B must be set}\"\n")
    assert info.value.line == 2 and "B must be set" in info.value.message
    assert info.value.code == "expansion-error"


@pytest.mark.parametrize("config", [
    {"Env": "PATH=/bin"}, {"Env": [1]}, {"Cmd": "sh"}, {"Labels": ["a"]}, {"Labels": {"a": 1}},
    {"ExposedPorts": 80}, {"WorkingDir": 7}, {"Healthcheck": "NONE"},
])
def test_malformed_base_config_is_a_user_error(config: dict[str, object]) -> None:
    from hoist.errors import UserInputError
    from hoist.plan import Scope, state_from_config

    with pytest.raises(UserInputError, match="base image config"):
        state_from_config(config, Scope())


def test_relative_mount_target_joins_workdir_and_root_is_refused() -> None:
    _, steps = run_stage("FROM b\nWORKDIR /src\nRUN --mount=type=cache,target=.cache x\n")
    run = steps[-1][0]
    assert isinstance(run, Run) and run.mounts[0].target == "/src/.cache"
    with pytest.raises(DockerfileError) as info:
        run_stage("FROM b\nWORKDIR /\nRUN --mount=type=cache,target=. x\n")
    assert info.value.line == 3

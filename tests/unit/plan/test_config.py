"""ENTRYPOINT x CMD table of the Dockerfile reference, SHELL, created_by strings (item 6)."""

from __future__ import annotations

import pytest

from hoist.dockerfile import Cmd, Entrypoint, Run, parse
from hoist.plan import (
    command_config,
    container_argv,
    created_by,
    go_duration,
    go_quote,
    heredoc_script,
    onbuild_triggers,
    run_argv,
)
from hoist.plan.config import go_rune
from tests.unit.plan.helpers import run_stage

SH = ("/bin/sh", "-c")
NO_ENTRY: tuple[str, ...] | None = None
ENTRY_SHELL = ("/bin/sh", "-c", "exec_entry p1_entry")
ENTRY_EXEC = ("exec_entry", "p1_entry")
CMD_EXEC = ("exec_cmd", "p1_cmd")
CMD_SHELL = ("/bin/sh", "-c", "exec_cmd p1_cmd")

# The reference's table, as the argv docker starts (Entrypoint + Cmd). With a
# shell-form ENTRYPOINT the Cmd items follow the -c script as $0 $1 and are unused.
TABLE = [
    (NO_ENTRY, None, ()),
    (NO_ENTRY, CMD_EXEC, ("exec_cmd", "p1_cmd")),
    (NO_ENTRY, CMD_SHELL, ("/bin/sh", "-c", "exec_cmd p1_cmd")),
    (ENTRY_SHELL, None, ("/bin/sh", "-c", "exec_entry p1_entry")),
    (ENTRY_SHELL, CMD_EXEC, ("/bin/sh", "-c", "exec_entry p1_entry", "exec_cmd", "p1_cmd")),
    (ENTRY_EXEC, None, ("exec_entry", "p1_entry")),
    (ENTRY_EXEC, CMD_EXEC, ("exec_entry", "p1_entry", "exec_cmd", "p1_cmd")),
    (ENTRY_EXEC, CMD_SHELL, ("exec_entry", "p1_entry", "/bin/sh", "-c", "exec_cmd p1_cmd")),
]


@pytest.mark.parametrize(("entrypoint", "cmd", "argv"), TABLE)
def test_entrypoint_cmd_table(entrypoint: tuple[str, ...] | None,
                              cmd: tuple[str, ...] | None, argv: tuple[str, ...]) -> None:
    assert container_argv(entrypoint, cmd) == argv


def _final(text: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    _, steps = run_stage(text)
    state = steps[-1][2]
    return state.entrypoint, state.cmd


def test_dockerfile_forms_give_the_table_values() -> None:
    assert _final("FROM b\nCMD exec_cmd p1_cmd\n") == (None, CMD_SHELL)
    assert _final('FROM b\nENTRYPOINT ["exec_entry", "p1_entry"]\n') == (ENTRY_EXEC, None)
    assert _final("FROM b\nENTRYPOINT exec_entry p1_entry\n") == (ENTRY_SHELL, None)


def test_entrypoint_resets_inherited_cmd_but_keeps_own() -> None:
    assert _final("FROM b\nENTRYPOINT [\"/bin/ls\"]\n") == (("/bin/ls",), None)
    assert _final("FROM b\nCMD [\"-l\"]\nENTRYPOINT [\"/bin/ls\"]\n") == (("/bin/ls",), ("-l",))


def test_shell_applies_to_every_shell_form() -> None:
    text = ('FROM b\nSHELL ["/bin/bash", "-e", "-c"]\nRUN echo r\nCMD echo c\n'
            "ENTRYPOINT echo e\n")
    _, steps = run_stage(text)
    run, before, _ = steps[1]
    assert isinstance(run, Run)
    assert run_argv(run, before.shell) == ("/bin/bash", "-e", "-c", "echo r")
    assert steps[2][2].cmd == ("/bin/bash", "-e", "-c", "echo c")
    assert steps[3][2].entrypoint == ("/bin/bash", "-e", "-c", "echo e")


def test_empty_entrypoint_clears_it() -> None:
    df = parse("FROM b\nENTRYPOINT []\nCMD\n")
    entry, cmd = df.stages[0].instructions
    assert isinstance(entry, Entrypoint) and isinstance(cmd, Cmd)
    assert command_config(entry, SH) == () and command_config(cmd, SH) == ()


def test_run_heredoc_argv() -> None:
    _, steps = run_stage("FROM b\nRUN <<EOF\necho a\nEOF\nRUN cat <<A > /f\nx\nA\n")
    single, before, _ = steps[0]
    assert isinstance(single, Run)
    assert run_argv(single, before.shell) == ("/bin/sh", "-c", "echo a\n")
    inline = steps[1][0]
    assert isinstance(inline, Run)
    assert run_argv(inline, SH) == ("/bin/sh", "-c", "cat <<A > /f\nx\nA")
    _, steps = run_stage("FROM b\nRUN cat <<A <<-B\na\nA\n\tb\n\tB\n")
    two = steps[0][0]
    assert isinstance(two, Run)
    assert run_argv(two, SH) == ("/bin/sh", "-c", "cat <<A <<-B\na\nA\nb\nB")


def test_shebang_heredoc_runs_as_a_file() -> None:
    _, steps = run_stage("FROM b\nRUN <<PY\n#!/usr/bin/env python3\nprint(1)\nPY\n")
    run = steps[0][0]
    assert isinstance(run, Run)
    script = heredoc_script(run)
    assert script is not None and script.content.startswith("#!/usr/bin/env python3\n")
    assert run_argv(run, SH) == ("/bin/sh", "-c", "/dev/pipes/PY")


def test_created_by_strings() -> None:
    text = ("FROM b\nARG V=1\nRUN echo $V\nRUN [\"echo\", \"x\"]\nCOPY a b /c/\n"
            "CMD [\"npm\", \"start\"]\nWORKDIR /usr/app\nEXPOSE 80 53/udp\nVOLUME /a /b\n"
            "USER app\nHEALTHCHECK --interval=1m30s --retries=3 CMD [\"true\"]\nMAINTAINER me\n"
            "ONBUILD RUN x\n")
    _, steps = run_stage(text)
    got = [created_by(e, b, a) for e, b, a in steps]
    assert got == [
        "ARG V=1",
        "RUN |1 V=1 /bin/sh -c echo $V # buildkit",
        "RUN |1 V=1 echo x # buildkit",
        "COPY a b /c/ # buildkit",
        'CMD ["npm" "start"]',
        "WORKDIR /usr/app",
        "EXPOSE map[53/udp:{} 80/tcp:{}]",
        "VOLUME [/a /b]",
        "USER app",
        "HEALTHCHECK &{[\"CMD\" \"true\"] \"1m30s\" \"0s\" \"0s\" '\\x03'}",
        "MAINTAINER me",
        None,
    ]


def test_go_formatting_helpers() -> None:
    assert go_quote('a"b\\c\n\x01é') == '"a\\"b\\\\c\\n\\x01é"'
    assert [go_duration(n) for n in (0, 5_000_000_000, 90_000_000_000, 1_500_000,
                                     3_723_500_000_000)] == ["0s", "5s", "1m30s", "1.5ms",
                                                             "1h2m3.5s"]
    assert (go_rune(0), go_rune(4), go_rune(65)) == ("'\\x00'", "'\\x04'", "'A'")


def test_onbuild_triggers_parse_and_refuse() -> None:
    triggers = onbuild_triggers(["RUN echo hi", "ENV A=1"])
    assert [t.keyword for t in triggers] == ["RUN", "ENV"]
    from hoist.errors import DockerfileError

    with pytest.raises(DockerfileError) as info:
        onbuild_triggers(["FROM x"])
    assert info.value.code == "invalid-onbuild"

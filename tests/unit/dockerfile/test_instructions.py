"""Typed instructions, flags, mounts, --chmod, durations, unsupported flags, diagnostics."""

from __future__ import annotations

import pytest

from hoist.dockerfile import (
    Add,
    Copy,
    Healthcheck,
    Run,
    parse,
    require_supported,
    unsupported_flags,
)
from hoist.dockerfile.diagnostics import render
from hoist.dockerfile.durations import parse_duration
from hoist.dockerfile.flags import FlagError
from hoist.dockerfile.modes import apply_chmod, parse_chmod
from hoist.dockerfile.mounts import parse_mount
from hoist.dockerfile.syntax import parse_text
from hoist.errors import DockerfileError


def _only(text: str) -> object:
    return parse("FROM busybox\n" + text).stages[0].instructions[0]


def test_every_copy_and_add_flag_is_kept() -> None:
    copy = _only("COPY --from=a --chown=1:2 --chmod=640 --link --parents --exclude=x "
                 "--exclude=y s /d\n")
    assert isinstance(copy, Copy)
    assert copy.flags == {"from", "chown", "chmod", "link", "parents", "exclude"}
    add = _only("ADD --keep-git-dir --checksum=sha256:x --unpack --link --exclude=z u /d\n")
    assert isinstance(add, Add)
    assert (add.keep_git_dir, add.checksum, add.unpack, add.link, add.exclude) == (
        True, "sha256:x", True, True, ("z",))


def test_unsupported_flags_are_named_never_dropped() -> None:
    df = parse("FROM busybox\nCOPY --link --parents a b\n")
    copy = df.stages[0].instructions[0]
    assert unsupported_flags(copy, {"from", "chown", "chmod"}) == ("link", "parents")
    with pytest.raises(DockerfileError) as info:
        require_supported(copy, {"link"}, df)
    assert info.value.code == "unsupported-flag" and "--parents" in info.value.message
    assert info.value.line == 2
    require_supported(copy, {"link", "parents"}, df)


def test_flag_only_known_for_its_instruction() -> None:
    with pytest.raises(DockerfileError) as info:
        parse("FROM busybox\nADD --parents a b\n")
    assert info.value.code == "unknown-flag"
    with pytest.raises(DockerfileError):
        parse("FROM busybox\nWORKDIR --x=1 /a\n")


def test_mount_parsing() -> None:
    cache = parse_mount("type=cache,target=/c,id=x,sharing=private,mode=0755,uid=1,gid=2,ro")
    assert (cache.type, cache.id, cache.sharing, cache.mode, cache.uid, cache.readonly) == (
        "cache", "x", "private", 0o755, 1, True)
    bind = parse_mount("target=/t,src=ctx,from=stage")
    assert (bind.type, bind.source, bind.from_, bind.readonly) == ("bind", "ctx", "stage", True)
    assert parse_mount('"type=bind","target=/a,b",rw=true').target == "/a,b"
    secret = parse_mount("type=secret,id=tok,env=TOKEN,required")
    assert (secret.env, secret.required, secret.target) == ("TOKEN", True, "")
    assert parse_mount("type=secret,source=npmrc").target == "/run/secrets/npmrc"
    assert parse_mount("type=secret,target=/etc/token").id == "token"
    assert parse_mount("type=ssh").id == "default"
    for bad in ("target=/x,mode=0600", "type=tmpfs,target=/x,uid=1", "target=/",
                "type=secret", "type=nfs,target=/x", "target=/x,mode=9", "target=/x,sharing=all",
                "target=/x,ro=maybe", "type=cache", "target=/x,flavour=y", "target"):
        with pytest.raises(FlagError):
            parse_mount(bad)


def test_run_network_security_and_mounts() -> None:
    run = _only("RUN --network=host --security=insecure --mount=type=tmpfs,target=/t x\n")
    assert isinstance(run, Run)
    assert (run.network, run.security, run.mounts[0].type) == ("host", "insecure", "tmpfs")


@pytest.mark.parametrize(("spec", "mode", "is_dir", "want"), [
    ("755", 0o644, False, 0o755),
    ("0600", 0o777, True, 0o600),
    ("u+x", 0o644, False, 0o744),
    ("go-w", 0o666, False, 0o644),
    ("a=r", 0o777, False, 0o444),
    ("u=rwx,g=rx,o=", 0o600, False, 0o750),
    ("a+X", 0o644, False, 0o644),
    ("a+X", 0o644, True, 0o755),
    ("a+X", 0o744, False, 0o755),
    ("+t", 0o755, True, 0o1755),
    ("u+s", 0o755, False, 0o4755),
])
def test_chmod(spec: str, mode: int, is_dir: bool, want: int) -> None:
    assert apply_chmod(parse_chmod(spec), mode, is_dir) == want


@pytest.mark.parametrize("bad", ["", "999", "u+q", "x+r", "12345", "u+x,"])
def test_bad_chmod(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_chmod(bad)


def test_durations() -> None:
    assert parse_duration("1m30s") == 90_000_000_000
    assert parse_duration("1.5h") == 5_400_000_000_000
    assert parse_duration("500ms") == 500_000_000
    assert parse_duration("0") == 0
    for bad in ("5", "-1s", "1x", "", "s", "100us"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_healthcheck_values() -> None:
    check = _only("HEALTHCHECK --start-interval=1s --retries=2 CMD [\"a\", \"b\"]\n")
    assert isinstance(check, Healthcheck)
    assert (check.test, check.start_interval, check.retries) == (("CMD", "a", "b"),
                                                                  1_000_000_000, 2)


def test_directives_stop_at_first_other_line_and_escape_applies() -> None:
    tree = parse_text("\n# escape=`\nFROM a\n")
    assert tree.directives.escape == "\\" and tree.directives.values == ()
    tree = parse_text("# ESCAPE = `\nFROM a\nRUN a `\n b\n")
    assert tree.directives.escape == "`" and tree.nodes[1].args == ("a  b",)


def test_keyword_casing_kept_for_lint() -> None:
    node = parse_text("from a As b\n").nodes[0]
    assert (node.keyword, node.keyword_text) == ("from", "from")
    assert node.args == ("a", "As", "b")


def test_empty_continuation_lines_are_recorded() -> None:
    node = parse_text("FROM a\nRUN a \\\n\n  b\n").nodes[1]
    assert node.empty_continuation_lines == (3,) and node.args == ("a   b",)


def test_render_marks_every_line_of_the_range() -> None:
    with pytest.raises(DockerfileError) as info:
        parse("FROM a\nRUN --bogus \\\n  x\nCMD y\n")
    text = render(info.value)
    assert text.splitlines()[0] == "Dockerfile:2: unknown flag: --bogus for RUN"
    assert " 2 | >>> RUN --bogus \\" in text and " 3 | >>>   x" in text
    assert " 4 |     CMD y" in text and text.endswith("error reference: unknown-flag")


def test_suggestions_and_long_words() -> None:
    from hoist.dockerfile.suggest import edit_distance, suggest

    assert edit_distance("kitten", "sitting") == 3
    assert suggest("RUNN", ["RUN", "ENV"]) == "RUN"
    assert suggest("workdri", ["WORKDIR"]) == "WORKDIR"
    assert suggest("EXPOSED", ["EXPOSE"]) == "EXPOSE"
    assert suggest("XYZZY", ["RUN"]) is None
    with pytest.raises(DockerfileError) as info:
        parse("FROM a\n" + "X" * 1_000_000 + "\n")
    assert len(info.value.message) < 120
    with pytest.raises(DockerfileError) as info:
        parse("FROM a\nCOPY --" + "x" * 1_000_000 + " a b\n")
    assert len(info.value.message) < 120

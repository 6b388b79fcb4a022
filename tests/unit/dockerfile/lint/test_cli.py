"""``hoist lint`` end to end, in process (argument parsing, exit codes, --fix on disk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.cli import lint as lint_cli
from hoist.cli.main import build_parser, main


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


@pytest.fixture
def registered() -> None:
    """The command is reachable from ``hoist`` itself once registered in main."""
    import hoist.cli.main as cli_main

    if "hoist.cli.lint" not in cli_main.COMMAND_MODULES:
        pytest.skip("hoist.cli.lint not registered in COMMAND_MODULES yet")


def _parse(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    lint_cli.register(sub)
    args = parser.parse_args(["lint", *argv])
    return int(args.handler(args))


def test_warnings_in_short_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine\nCMD echo hi\n")
    assert _parse([str(tmp_path)]) == 0
    assert capsys.readouterr().out == (
        "WARN: JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended "
        "behavior related to OS signals (line 2)\n"
    )


def test_error_true_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = tmp_path / "ci.Dockerfile"
    df.write_text("# check=error=true\nFROM alpine\nMAINTAINER me\n")
    assert _parse(["-f", str(df), str(tmp_path)]) == 1
    assert "lint violation found for rules: MaintainerDeprecated" in capsys.readouterr().err


def test_fix_rewrites_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = tmp_path / "Dockerfile"
    df.write_bytes(b"FROM alpine\r\nenv A b\r\nCMD echo hi\r\nMAINTAINER me\r\n")
    df.chmod(0o640)
    assert _parse(["--fix", str(tmp_path)]) == 0
    assert df.read_bytes() == b'FROM alpine\r\nENV A=b\r\nCMD ["echo", "hi"]\r\nMAINTAINER me\r\n'
    assert df.stat().st_mode & 0o777 == 0o640
    out = capsys.readouterr().out
    assert "fixed 3 problem(s)" in out
    assert "MaintainerDeprecated" in out  # what --fix cannot do is still reported
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]  # no temp file left


def test_verbose_shows_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine\nENV A b\n")
    assert _parse(["-v", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert " 2 | >>> ENV A b" in out
    assert out.rstrip().endswith("Check complete, 1 warning has been found!")


def test_missing_dockerfile_is_a_diagnostic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], registered: None
) -> None:
    assert main(["lint", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "reading Dockerfile" in err and "Traceback" not in err


def test_registered_in_main(registered: None, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    assert main(["lint", str(tmp_path)]) == 0


def test_unknown_instruction_is_the_parser_diagnostic(tmp_path: Path) -> None:
    pytest.importorskip("hoist.dockerfile.convert")
    from hoist.errors import DockerfileError

    (tmp_path / "Dockerfile").write_text("FROM alpine\nRUNN true\n")
    with pytest.raises(DockerfileError) as info:
        _parse([str(tmp_path)])
    assert info.value.code == "unknown-instruction"
    assert info.value.line == 2


def test_dockerfile_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    fake = io.TextIOWrapper(io.BytesIO(b"FROM alpine\nMAINTAINER me\n"))
    monkeypatch.setattr(sys, "stdin", fake)
    assert _parse(["-f", "-", str(tmp_path)]) == 0
    assert "MaintainerDeprecated" in capsys.readouterr().out
    fake = io.TextIOWrapper(io.BytesIO(b"FROM alpine\n"))
    monkeypatch.setattr(sys, "stdin", fake)
    from hoist.errors import UserInputError

    with pytest.raises(UserInputError, match="--fix needs a Dockerfile on disk"):
        _parse(["--fix", "-f", "-", str(tmp_path)])

"""Golden lint cases: tests/golden/lint/<case>/{Dockerfile, expected[, fixed]}.

``expected`` holds the findings in BuildKit's short form, one per line;
``fixed`` (when present) the file after ``hoist lint --fix``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.dockerfile.lint import check, fix

GOLDEN = Path(__file__).resolve().parents[3] / "golden" / "lint"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "Dockerfile").is_file())
FIX_CASES = [c for c in CASES if (GOLDEN / c / "fixed").is_file()]


def _read(case: str, name: str) -> str:
    return (GOLDEN / case / name).read_bytes().decode("utf-8")


def _build_args(case: str) -> dict[str, str]:
    """``build-args``: optional ``KEY=VALUE`` lines, as given with --build-arg."""
    path = GOLDEN / case / "build-args"
    lines = path.read_text().splitlines() if path.is_file() else []
    return dict(line.split("=", 1) for line in lines if line)


@pytest.mark.parametrize("case", CASES)
def test_findings(case: str) -> None:
    warnings = check(_read(case, "Dockerfile"), build_args=_build_args(case))
    found = "".join(w.short() + "\n" for w in warnings)
    assert found == _read(case, "expected")


@pytest.mark.parametrize("case", FIX_CASES)
def test_fix(case: str) -> None:
    result = fix(_read(case, "Dockerfile"))
    assert result.text == _read(case, "fixed")
    assert result.fixed


@pytest.mark.parametrize("case", FIX_CASES)
def test_fix_is_complete_and_idempotent(case: str) -> None:
    """After a fix, no fixable finding it claimed remains, and fixing again changes nothing."""
    result = fix(_read(case, "Dockerfile"))
    fixed_rules = {w.rule.name for w in result.fixed}
    left_after = {w.rule.name for w in check(result.text)}
    assert not (fixed_rules & left_after) - {w.rule.name for w in result.left}
    assert fix(result.text).text == result.text


def test_there_is_a_case_for_every_rule() -> None:
    from hoist.dockerfile.lint import RULES

    expected = "".join(_read(case, "expected") for case in CASES)
    missing = [name for name in RULES if f"{name}: " not in expected]
    assert missing == []


@pytest.mark.parametrize("case", CASES)
def test_text_reader_agrees_with_parser(case: str) -> None:
    """The fallback text reader (used without the syntax layer) finds the same."""
    pytest.importorskip("hoist.dockerfile.syntax")
    from hoist.dockerfile.lint import _config, _run
    from hoist.dockerfile.lint.source import read_view
    from hoist.dockerfile.lint.variables import VarContext

    text = _read(case, "Dockerfile")
    view = read_view(text)
    args = _build_args(case)
    found = "".join(w.short() + "\n" for w in _run(view, VarContext(args), _config(view, args)))
    assert found == _read(case, "expected")


def test_check_accepts_a_parsed_tree() -> None:
    syntax = pytest.importorskip("hoist.dockerfile.syntax")
    tree = syntax.parse_text("FROM alpine\nCMD echo hi\n")
    assert [w.rule.name for w in check(tree)] == ["JSONArgsRecommended"]


def test_check_accepts_a_typed_dockerfile() -> None:
    frontend = pytest.importorskip("hoist.dockerfile")
    df = frontend.parse("FROM alpine\nENV A b\n", "x.Dockerfile")
    assert [w.rule.name for w in check(df)] == ["LegacyKeyValueFormat"]

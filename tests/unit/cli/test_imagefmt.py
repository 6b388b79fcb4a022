"""Docker's output shapes: human sizes, ages, templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hoist.cli.imagefmt import created_at, ellipsis, human_since, human_size, render_template


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0B"), (999, "999B"), (1000, "1kB"), (4_261_000, "4.26MB"), (123_456, "123kB"),
     (1_500_000_000, "1.5GB")],
)  # fmt: skip
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=0), "Less than a second ago"),
        (timedelta(seconds=1), "1 second ago"),
        (timedelta(seconds=30), "30 seconds ago"),
        (timedelta(minutes=1), "About a minute ago"),
        (timedelta(minutes=5), "5 minutes ago"),
        (timedelta(hours=1), "About an hour ago"),
        (timedelta(hours=30), "30 hours ago"),
        (timedelta(days=3), "3 days ago"),
        (timedelta(days=20), "2 weeks ago"),
        (timedelta(days=100), "3 months ago"),
        (timedelta(days=800), "2 years ago"),
    ],
)
def test_human_since(delta: timedelta, text: str) -> None:
    created = (NOW - delta).strftime("%Y-%m-%dT%H:%M:%S.000000000Z")
    assert human_since(created, now=NOW) == text


def test_unknown_dates() -> None:
    assert human_since(None) == "N/A" and human_since("garbage") == "N/A"
    assert created_at("2024-01-02T03:04:05.999999999Z") == "2024-01-02 03:04:05 +0000 UTC"


def test_template_and_ellipsis() -> None:
    obj = {"Id": "sha256:x", "Config": {"Cmd": ["sh", "-c"], "Labels": None}}
    assert render_template("{{.Id}}\\t{{json .Config.Cmd}}", obj) == 'sha256:x\t["sh", "-c"]'
    assert render_template("{{.Config.Cmd}} {{.Config.Labels}}", obj) == "[sh -c] <no value>"
    assert ellipsis("x" * 50, 45) == "x" * 44 + "…"

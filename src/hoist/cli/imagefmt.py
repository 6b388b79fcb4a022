"""Docker's output shapes for the image commands: sizes, ages, tables, ``--format``."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from typing import Any

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")
_FIELD = re.compile(r"\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\}")


def human_size(size: float) -> str:
    """``4.26MB``: decimal units, 3 significant digits, as ``docker images`` prints."""
    unit = 0
    while size >= 1000 and unit < len(_UNITS) - 1:
        size /= 1000
        unit += 1
    return f"{size:.3g}{_UNITS[unit]}"


def parse_created(text: str | None) -> datetime | None:
    if not text:
        return None
    trimmed = re.sub(r"(\.\d{6})\d*", r"\1", text.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(trimmed)
    except ValueError:
        return None


def human_since(text: str | None, now: datetime | None = None) -> str:
    """``2 hours ago`` (go-units HumanDuration), ``N/A`` when unknown."""
    created = parse_created(text)
    if created is None:
        return "N/A"
    seconds = int(((now or datetime.now(UTC)) - created).total_seconds())
    return _duration(seconds) + " ago"


def _duration(seconds: int) -> str:
    minutes, hours = seconds // 60, seconds // 3600
    steps = (
        (seconds < 1, "Less than a second"),
        (seconds == 1, "1 second"),
        (seconds < 60, f"{seconds} seconds"),
        (minutes == 1, "About a minute"),
        (minutes < 60, f"{minutes} minutes"),
        (hours == 1, "About an hour"),
        (hours < 48, f"{hours} hours"),
        (hours < 24 * 7 * 2, f"{hours // 24} days"),
        (hours < 24 * 30 * 2, f"{hours // 24 // 7} weeks"),
        (hours < 24 * 365 * 2, f"{hours // 24 // 30} months"),
    )
    return next((text for cond, text in steps if cond), f"{hours // 24 // 365} years")


def created_at(text: str | None) -> str:
    """``2024-01-02 03:04:05 +0000 UTC`` as docker's ``CreatedAt``."""
    created = parse_created(text)
    if created is None:
        return ""
    return created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Columns padded to their widest cell plus three spaces (docker's tabwriter)."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [cell.ljust(widths[i] + 3) for i, cell in enumerate(row[:-1])]
        sys.stdout.write(("".join(cells) + row[-1]).rstrip() + "\n")


def render_template(template: str, obj: dict[str, Any]) -> str:
    """A tiny subset of Go templates: ``{{.A.B}}`` and ``{{json .A}}`` (``{{json .}}``)."""

    def replace(match: re.Match[str]) -> str:
        value: Any = obj
        for key in filter(None, match[2].split(".")):
            value = value.get(key) if isinstance(value, dict) else None
        return json.dumps(value) if match[1] else _go_text(value)

    return _FIELD.sub(replace, template.replace("\\t", "\t").replace("\\n", "\n"))


def _go_text(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_go_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_text(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def print_formatted(fmt: str, objects: list[dict[str, Any]]) -> None:
    """``--format json`` (one JSON object per line) or a template per object."""
    for obj in objects:
        if fmt == "json":
            print(json.dumps(obj, ensure_ascii=False))
        else:
            print(render_template(fmt, obj))

"""``--progress tty``: a live view drawn with rich, BuildKit-like.

One line per step (``[+] Building 3.2s (4/6)`` header, ``=> [2/4] RUN …  1.2s``),
the last lines of the running step's output below it. The view is redrawn in
place and left on screen when the build ends.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from hoist.builder import events as ev
from hoist.cli.render import Renderer
from hoist.cli.render.plain import vertex_name

TAIL_LINES = 6


@dataclass
class _Row:
    name: str
    started: float
    ended: float | None = None
    status: str = "running"  # running | done | cached | error
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))


class TtyRenderer(Renderer):
    def __init__(self, stream: TextIO) -> None:
        self._console = Console(file=stream, highlight=False)
        self._rows: dict[int, _Row] = {}
        self._total = 0
        self._start = time.monotonic()
        self._live = Live(console=self._console, refresh_per_second=8, transient=False)
        self._live.start()
        self._footer: list[str] = []

    def emit(self, event: ev.Event) -> None:
        step = getattr(event, "step", None)
        if step is not None and step.cli_label:  # a --label step: BuildKit shows none
            if isinstance(event, ev.StepStarted):
                self._total -= 1
            return
        match event:
            case ev.BuildStarted(total_steps=total):
                self._total = total
            case ev.StepStarted(step=step):
                self._rows[step.number] = _Row(vertex_name(step), time.monotonic())
            case ev.StepCached(step=step):
                self._finish(step.number, "cached")
            case ev.StepOutput(step=step, data=data):
                self._append(step.number, data)
            case ev.StepDone(step=step, cached=False):
                self._finish(step.number, "done")
            case ev.StepFailed(step=step):
                self._finish(step.number, "error")
            case ev.BuildWarning(message=message):
                self._footer.append(f"WARN: {message}")
            case ev.BuildDone(image_id=image_id, tags=tags):
                self._footer.append(f"=> writing image {image_id}")
                self._footer.extend(f"=> naming to {tag}" for tag in tags)
        self._live.update(self._render())

    def close(self) -> None:
        self._live.update(self._render())
        self._live.stop()

    def _finish(self, number: int, status: str) -> None:
        row = self._rows.get(number)
        if row is not None:
            row.status, row.ended = status, time.monotonic()

    def _append(self, number: int, data: bytes) -> None:
        row = self._rows.get(number)
        if row is None:
            return
        for line in data.decode("utf-8", errors="replace").splitlines():
            if line.strip():
                row.tail.append(line)

    def _render(self) -> Group:
        finished = sum(1 for row in self._rows.values() if row.status != "running")
        elapsed = time.monotonic() - self._start
        lines = [Text(f"[+] Building {elapsed:.1f}s ({finished}/{self._total})", style="bold")]
        for row in self._rows.values():
            lines.extend(self._row_lines(row))
        lines.extend(Text(text) for text in self._footer)
        return Group(*lines)

    def _row_lines(self, row: _Row) -> list[Text]:
        seconds = (row.ended or time.monotonic()) - row.started
        label = {"cached": "CACHED ", "error": "ERROR "}.get(row.status, "")
        style = {"running": "blue", "error": "red", "cached": "dim"}.get(row.status, "")
        lines = [Text(f" => {label}{row.name}  {seconds:.1f}s", style=style)]
        if row.status in ("running", "error"):
            lines.extend(Text(f" => => # {line}", style="dim") for line in row.tail)
        return lines

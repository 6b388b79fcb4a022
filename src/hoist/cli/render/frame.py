"""The BuildKit-like frame of ``--progress tty``, as plain text, and its lazy renderer.

:class:`Frame` follows the build events (one row per step, the last output
lines of running or failed steps, warnings and the export lines) and gives
the frame as ``(text, style)`` lines; :mod:`hoist.cli.render.tty` draws it
live with rich. :class:`LazyTtyRenderer` is what ``--progress tty`` (and
``auto`` on a terminal) gets: it only follows the frame until the build does
real work (a container starts, output arrives, a step fails, or a quarter of
a second passes), and only then loads rich and draws live. A build replayed
from its record never gets there: its frame is printed once, as text, and
rich is never imported (a no-op build stays light on a terminal too).
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import TextIO

from hoist.builder import events as ev
from hoist.cli.render import Renderer, new_vertex

TAIL_LINES = 6
#: How long a build may run before the live view is drawn anyway.
LIVE_AFTER_SECONDS = 0.25

Line = tuple[str, str]  # text, rich style ("" for none)


class Row:
    """One step's line in the frame (mutable: it changes as the step runs)."""

    __slots__ = ("ended", "name", "started", "status", "tail")

    def __init__(self, name: str, started: float) -> None:
        self.name = name
        self.started = started
        self.ended: float | None = None
        self.status = "running"  # running | done | cached | error
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)


class Frame:
    """What the tty view shows, updated event by event."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self.total = 0
        self.start = time.monotonic()
        self.footer: list[str] = []

    def apply(self, event: ev.Event) -> None:
        step = getattr(event, "step", None)
        if step is not None and step.number not in self.rows:
            name = new_vertex(event)
            if name is None:  # not shown: nor counted
                if isinstance(event, ev.StepStarted):
                    self.total -= 1
                return
            self.rows[step.number] = Row(name, time.monotonic())
            if isinstance(event, ev.StepStarted):
                return
        match event:
            case ev.BuildStarted(total_steps=total):
                self.total = total
            case ev.StepCached(step=step):
                self._finish(step.number, "cached")
            case ev.StepOutput(step=step, data=data):
                self._append(step.number, data)
            case ev.StepDone(step=step, cached=False):
                self._finish(step.number, "done")
            case ev.StepFailed(step=step):
                self._finish(step.number, "error")
            case ev.BuildWarning(message=message):
                self.footer.append(f"WARN: {message}")
            case ev.BuildDone(image_id=image_id, tags=tags):
                self.footer.append(f"=> writing image {image_id}")
                self.footer.extend(f"=> naming to {tag}" for tag in tags)

    def lines(self) -> list[Line]:
        finished = sum(1 for row in self.rows.values() if row.status != "running")
        elapsed = time.monotonic() - self.start
        out = [(f"[+] Building {elapsed:.1f}s ({finished}/{self.total})", "bold")]
        for row in self.rows.values():
            out.extend(_row_lines(row))
        out.extend((text, "") for text in self.footer)
        return out

    def _finish(self, number: int, status: str) -> None:
        row = self.rows.get(number)
        if row is not None:
            row.status, row.ended = status, time.monotonic()

    def _append(self, number: int, data: bytes) -> None:
        row = self.rows.get(number)
        if row is None:
            return
        for line in data.decode("utf-8", errors="replace").splitlines():
            if line.strip():
                row.tail.append(line)


def _row_lines(row: Row) -> list[Line]:
    seconds = (row.ended or time.monotonic()) - row.started
    label = {"cached": "CACHED ", "error": "ERROR "}.get(row.status, "")
    style = {"running": "blue", "error": "red", "cached": "dim"}.get(row.status, "")
    lines = [(f" => {label}{row.name}  {seconds:.1f}s", style)]
    if row.status in ("running", "error"):
        lines.extend((f" => => # {line}", "dim") for line in row.tail)
    return lines


_WORK = (ev.ContainerStarted, ev.StepOutput, ev.StepFailed)


class LazyTtyRenderer(Renderer):
    """``--progress tty`` that loads rich only once the build does real work."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._frame = Frame()
        self._live: Renderer | None = None

    def emit(self, event: ev.Event) -> None:
        if self._live is not None:
            self._live.emit(event)
            return
        self._frame.apply(event)
        if isinstance(event, _WORK) or time.monotonic() - self._frame.start > LIVE_AFTER_SECONDS:
            from hoist.cli.render.tty import TtyRenderer

            self._live = TtyRenderer(self._stream, self._frame)

    def close(self) -> None:
        if self._live is not None:
            self._live.close()
            return
        width = _columns(self._stream)
        self._stream.write("".join(text[:width] + "\n" for text, _ in self._frame.lines()))
        self._stream.flush()


def _columns(stream: TextIO) -> int | None:
    """The terminal's width (lines are cut to it, as the live view does), None if unknown."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None

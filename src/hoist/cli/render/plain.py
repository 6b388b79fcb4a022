"""``--progress plain``: BuildKit's plain shape.

#3 [2/4] RUN npm install
#3 0.512 added 12 packages
#3 DONE 1.2s

#4 [3/4] COPY . .
#4 CACHED
"""

from __future__ import annotations

import time
from typing import TextIO

from hoist.builder import events as ev
from hoist.cli.render import Renderer


def vertex_name(step: ev.StepRef) -> str:
    stage = "" if step.stage.isdigit() else f"{step.stage} "
    return f"[{stage}{step.stage_position}/{step.stage_total}] {step.text}"


class PlainRenderer(Renderer):
    def __init__(self, stream: TextIO) -> None:
        self._out = stream
        self._started: dict[int, float] = {}
        self._partial: dict[int, str] = {}

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def emit(self, event: ev.Event) -> None:
        match event:
            case ev.StepStarted(step=step):
                self._started[step.number] = time.monotonic()
                self._write(f"#{step.number} {vertex_name(step)}\n")
            case ev.StepCached(step=step):
                self._write(f"#{step.number} CACHED\n\n")
            case ev.StepOutput(step=step, data=data):
                self._output(step.number, data)
            case ev.StepDone(step=step, cached=False, seconds=seconds, miss_reason=reason):
                self._flush_partial(step.number)
                if reason:
                    self._write(f"#{step.number} cache miss: {reason}\n")
                self._write(f"#{step.number} DONE {seconds:.1f}s\n\n")
            case ev.StepFailed(step=step, message=message, seconds=seconds):
                self._flush_partial(step.number)
                self._write(f"#{step.number} ERROR: {message}\n")
            case ev.BuildWarning(message=message, line=line):
                where = f" (line {line})" if line else ""
                self._write(f"WARN: {message}{where}\n")
            case ev.BuildDone(image_id=image_id, tags=tags):
                self._write(f"#done writing image {image_id} done\n")
                for tag in tags:
                    self._write(f"#done naming to {tag} done\n")

    def _output(self, number: int, data: bytes) -> None:
        elapsed = time.monotonic() - self._started.get(number, time.monotonic())
        text = self._partial.pop(number, "") + data.decode("utf-8", errors="replace")
        *lines, rest = text.split("\n")
        for line in lines:
            self._write(f"#{number} {elapsed:.3f} {line}\n")
        if rest:
            self._partial[number] = rest

    def _flush_partial(self, number: int) -> None:
        rest = self._partial.pop(number, "")
        if rest:
            elapsed = time.monotonic() - self._started.get(number, time.monotonic())
            self._write(f"#{number} {elapsed:.3f} {rest}\n")

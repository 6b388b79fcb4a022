"""``-q``: only the image ID, and a failed step's output on stderr."""

from __future__ import annotations

import sys
from typing import TextIO

from hoist.builder import events as ev
from hoist.cli.render import Renderer


class QuietRenderer(Renderer):
    def __init__(self, stream: TextIO) -> None:
        self._out = stream
        self._pending: list[bytes] = []

    def emit(self, event: ev.Event) -> None:
        match event:
            case ev.StepOutput(data=data):
                self._pending.append(data)
            case ev.StepDone():
                self._pending.clear()
            case ev.StepFailed():
                sys.stderr.write(b"".join(self._pending).decode("utf-8", errors="replace"))
            case ev.BuildDone(image_id=image_id):
                self._out.write(image_id + "\n")
                self._out.flush()

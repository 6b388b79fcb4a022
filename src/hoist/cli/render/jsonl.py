"""``--progress json``: one JSON object per line, one line per event.

Every line has ``"event"`` (the event kind: build-started, step-started,
step-cached, container-started, step-output, container-removed, step-done,
step-failed, warning, build-done) and ``"time"`` (Unix seconds). Step events
carry ``"step"`` with number, total, stage, stage_position, stage_total, text,
line, triggers, cli_label and vertex. ``step-output`` carries ``"stream"`` and
``"data"`` (UTF-8 text, invalid bytes replaced). See docs/progress.md.
"""

from __future__ import annotations

import json
import time
from typing import Any, TextIO

from hoist.builder import events as ev
from hoist.cli.render import Renderer


def event_to_dict(event: ev.Event) -> dict[str, Any]:
    body: dict[str, Any] = {"event": event.kind, "time": round(time.time(), 3)}
    for name, value in event._asdict().items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        elif isinstance(value, ev.StepRef):
            value = value._asdict()
        elif isinstance(value, tuple):
            value = list(value)
        body[name] = value
    return body


class JsonRenderer(Renderer):
    def __init__(self, stream: TextIO) -> None:
        self._out = stream

    def emit(self, event: ev.Event) -> None:
        self._out.write(json.dumps(event_to_dict(event), ensure_ascii=False) + "\n")
        self._out.flush()

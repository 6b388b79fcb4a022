"""``--progress plain``: BuildKit's plain shape.

#3 [2/4] RUN npm install
#3 0.512 added 12 packages
#3 DONE 1.2s

#4 [3/4] COPY . .
#4 CACHED

#5 exporting to image
#5 writing image sha256:… done
#5 naming to docker.io/library/app:latest done
#5 DONE 0.0s

Only the steps BuildKit makes vertices of are shown (FROM an image, RUN, COPY,
ADD, WORKDIR: :mod:`hoist.builder.vertices`), with its ``[stage k/n]`` names,
numbered ``#1``, ``#2``… in the order they start; configuration steps (ENV,
LABEL, CMD…, and ``--label``) are left out, as BuildKit does, unless one
fails.
"""

from __future__ import annotations

import re
import time
from typing import TextIO

from hoist.builder import events as ev
from hoist.cli.render import Renderer, new_vertex

#: The classic builder's wording of a failed RUN, and BuildKit's for the same failure.
_CLASSIC_FAILURE = re.compile(r"The command '(?P<cmd>.*)' returned a non-zero code: (?P<code>\d+)")


def buildkit_wording(message: str) -> str:
    """A failed RUN as BuildKit words it (``executor failed running [...]: exit code: N``)."""
    found = _CLASSIC_FAILURE.search(message)
    if found is None:
        return message
    return f"executor failed running [{found['cmd']}]: exit code: {found['code']}"


class PlainRenderer(Renderer):
    def __init__(self, stream: TextIO) -> None:
        self._out = stream
        self._started: dict[int, float] = {}
        self._partial: dict[int, str] = {}
        self._numbers: dict[int, int] = {}  # step number -> vertex number shown (#N)
        self._names: dict[int, str] = {}

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def emit(self, event: ev.Event) -> None:
        step = getattr(event, "step", None)
        if step is not None and step.number not in self._numbers:
            name = new_vertex(event)
            if name is None:
                return
            self._start(step, name)
        match event:
            case ev.StepCached(step=step):
                self._write(f"#{self._numbers[step.number]} CACHED\n\n")
            case ev.StepOutput(step=step, data=data):
                self._output(step.number, data)
            case ev.StepDone(step=step, cached=False, seconds=seconds, miss_reason=reason):
                self._flush_partial(step.number)
                number = self._numbers[step.number]
                if reason:
                    self._write(f"#{number} cache miss: {reason}\n")
                self._write(f"#{number} DONE {seconds:.1f}s\n\n")
            case ev.StepFailed(step=step, message=message):
                self._failed(step.number, message)
            case ev.BuildWarning(message=message, line=line):
                where = f" (line {line})" if line else ""
                self._write(f"WARN: {message}{where}\n")
            case ev.BuildDone(image_id=image_id, tags=tags):
                self._exported(image_id, tags)

    def _start(self, step: ev.StepRef, name: str) -> None:
        number = self._numbers[step.number] = len(self._numbers) + 1
        self._started[step.number] = time.monotonic()
        self._names[step.number] = name
        self._write(f"#{number} {name}\n")

    def _failed(self, step: int, message: str) -> None:
        """BuildKit's shape: the ERROR line, then a ``------`` block naming the vertex."""
        self._flush_partial(step)
        number = self._numbers[step]
        self._write(f"#{number} ERROR: {buildkit_wording(message)}\n")
        self._write(f"------\n > {self._names[step]}:\n------\n")

    def _exported(self, image_id: str, tags: tuple[str, ...]) -> None:
        """The export vertex, numbered after the last step as BuildKit numbers it."""
        from hoist.errors import InvalidReference
        from hoist.models.reference import Reference

        number = len(self._numbers) + 1
        self._write(f"#{number} exporting to image\n")
        self._write(f"#{number} writing image {image_id} done\n")
        for tag in tags:
            try:
                name = str(Reference.parse(tag))
            except InvalidReference:
                name = tag
            self._write(f"#{number} naming to {name} done\n")
        self._write(f"#{number} DONE 0.0s\n")

    def _output(self, step: int, data: bytes) -> None:
        elapsed = time.monotonic() - self._started[step]
        text = self._partial.pop(step, "") + data.decode("utf-8", errors="replace")
        *lines, rest = text.split("\n")
        for line in lines:
            self._write(f"#{self._numbers[step]} {elapsed:.3f} {line}\n")
        if rest:
            self._partial[step] = rest

    def _flush_partial(self, step: int) -> None:
        rest = self._partial.pop(step, "")
        if rest:
            elapsed = time.monotonic() - self._started[step]
            self._write(f"#{self._numbers[step]} {elapsed:.3f} {rest}\n")

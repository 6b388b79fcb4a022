"""The classic builder's output, line for line.

Step 2/6 : WORKDIR /usr/app
 ---> Running in 3a4b81250301
Removing intermediate container 3a4b81250301
 ---> 8985045f8548
Successfully built 8985045f8548
Successfully tagged hello:latest
"""

from __future__ import annotations

from typing import TextIO

from hoist.builder import events as ev
from hoist.cli.render import Renderer

#: How the unconsumed build-arg warning starts (docker prints it as the build ends).
UNCONSUMED = "One or more build-args ["


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def is_from_scratch(step: ev.StepRef) -> bool:
    """Whether ``step`` is ``FROM scratch`` (options such as ``--platform`` skipped)."""
    if step.stage_position != 1:
        return False
    words = [word for word in step.text.split()[1:] if not word.startswith("--")]
    return bool(words) and words[0].lower() == "scratch"


class ClassicRenderer(Renderer):
    """Prints steps in their Dockerfile order, one after the other, as the classic builder.

    Independent stages run at the same time; the events of a step whose turn
    has not come are held back and printed when it comes, so the output reads
    as if the steps had run one by one.
    """

    def __init__(self, stream: TextIO, *, remove: bool = True) -> None:
        """``remove`` False (``--rm=false``): no "Removing intermediate container" line."""
        self._out = stream
        self._remove = remove
        self._open_line = False
        self._next = 1
        self._held: dict[int, list[ev.Event]] = {}
        self._unconsumed: list[str] = []  # build-arg warnings, shown before "Successfully built"

    def emit(self, event: ev.Event) -> None:
        step = getattr(event, "step", None)
        if step is None:
            if isinstance(event, ev.BuildDone):
                self.close()
            self._show(event)
            return
        if step.number != self._next:
            self._held.setdefault(step.number, []).append(event)
            return
        self._show(event)
        if isinstance(event, ev.StepDone | ev.StepFailed):
            self._advance()

    def _advance(self) -> None:
        self._next += 1
        while self._next in self._held:
            events = self._held.pop(self._next)
            for event in events:
                self._show(event)
            if not any(isinstance(e, ev.StepDone | ev.StepFailed) for e in events):
                return
            self._next += 1

    def close(self) -> None:
        """Print whatever is still held (a failed build stops other stages midway)."""
        for number in sorted(self._held):
            for event in self._held.pop(number):
                self._show(event)

    def _line(self, text: str) -> None:
        self._end_partial()
        self._out.write(text + "\n")
        self._out.flush()

    def _end_partial(self) -> None:
        if self._open_line:
            self._out.write("\n")
            self._open_line = False

    def _show(self, event: ev.Event) -> None:
        match event:
            case ev.StepStarted(step=step):
                self._started(step)
            case ev.StepCached(step=step):
                # a FROM's ONBUILD triggers are steps of their own to the classic builder,
                # each found in its cache; hoist caches them as the FROM step
                for _ in range(max(1, step.triggers)):
                    self._line(" ---> Using cache")
            case ev.ContainerStarted(container_id=cid):
                self._line(f" ---> Running in {cid[:12]}")
            case ev.StepOutput(data=data):
                self._output(data)
            case ev.ContainerRemoved(container_id=cid) if self._remove:
                self._line(f"Removing intermediate container {cid[:12]}")
            case ev.StepDone(step=step, image_id=image_id):
                # FROM scratch has no image to show: docker prints the arrow alone
                shown = "" if is_from_scratch(step) else short_id(image_id)
                self._line(f" ---> {shown}")
            case ev.BuildWarning(message=message) if message.startswith(UNCONSUMED):
                self._unconsumed.append(message)
            case ev.BuildWarning(message=message):
                self._line(f"[WARNING]: {message}")
            case ev.BuildDone(image_id=image_id, tags=tags):
                for message in self._unconsumed:
                    self._line(f"[Warning] {message}")
                self._line(f"Successfully built {short_id(image_id)}")
                for tag in tags:
                    self._line(f"Successfully tagged {tag}")

    def _started(self, step: ev.StepRef) -> None:
        self._line(f"Step {step.number}/{step.total} : {step.text}")
        if step.triggers:
            word = "triggers" if step.triggers > 1 else "trigger"
            self._line(f"# Executing {step.triggers} build {word}")

    def _output(self, data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        self._out.write(text)
        self._open_line = not text.endswith("\n")
        self._out.flush()

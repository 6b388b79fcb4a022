"""Typed progress events of a build, and the sink they are sent to.

The executor never prints: it emits these values to an :class:`EventSink`. The
CLI renders them (classic, plain, tty, json); tests collect them in a list.
Every event is a frozen value; ``kind`` names it in the JSON rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol


@dataclass(frozen=True, slots=True)
class StepRef:
    """Where a step stands: global step number and its place in its stage."""

    number: int  # 1-based over the whole build, as the classic builder counts
    total: int
    stage: str  # stage name, or its index as text
    stage_position: int  # 1-based within the stage (FROM is 1)
    stage_total: int
    text: str  # the instruction as the user wrote it (after the keyword, unexpanded)
    line: int


@dataclass(frozen=True, slots=True)
class BuildStarted:
    kind: ClassVar[str] = "build-started"
    total_steps: int
    stages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StepStarted:
    kind: ClassVar[str] = "step-started"
    step: StepRef


@dataclass(frozen=True, slots=True)
class StepCached:
    kind: ClassVar[str] = "step-cached"
    step: StepRef
    image_id: str


@dataclass(frozen=True, slots=True)
class ContainerStarted:
    kind: ClassVar[str] = "container-started"
    step: StepRef
    container_id: str


@dataclass(frozen=True, slots=True)
class StepOutput:
    kind: ClassVar[str] = "step-output"
    step: StepRef
    stream: str  # "stdout" | "stderr"
    data: bytes


@dataclass(frozen=True, slots=True)
class ContainerRemoved:
    kind: ClassVar[str] = "container-removed"
    step: StepRef
    container_id: str


@dataclass(frozen=True, slots=True)
class ContainerKept:
    """The intermediate container stays (``--rm=false``, or its command failed)."""

    kind: ClassVar[str] = "container-kept"
    step: StepRef
    container_id: str


@dataclass(frozen=True, slots=True)
class StepDone:
    kind: ClassVar[str] = "step-done"
    step: StepRef
    image_id: str
    cached: bool
    seconds: float
    miss_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StepFailed:
    kind: ClassVar[str] = "step-failed"
    step: StepRef
    message: str
    seconds: float


@dataclass(frozen=True, slots=True)
class BuildWarning:
    kind: ClassVar[str] = "warning"
    message: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class BuildDone:
    kind: ClassVar[str] = "build-done"
    image_id: str
    tags: tuple[str, ...] = field(default=())
    seconds: float = 0.0


Event = (
    BuildStarted
    | StepStarted
    | StepCached
    | ContainerStarted
    | StepOutput
    | ContainerRemoved
    | ContainerKept
    | StepDone
    | StepFailed
    | BuildWarning
    | BuildDone
)


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class CallbackSink:
    """Adapts a function to the EventSink protocol."""

    def __init__(self, function: Callable[[Event], None]) -> None:
        self._function = function

    def emit(self, event: Event) -> None:
        self._function(event)


class ListSink:
    """Collects events (for tests and for the Python API's result)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


class NullSink:
    def emit(self, event: Event) -> None:
        pass

"""Typed progress events of a build, and the sink they are sent to.

The executor never prints: it emits these values to an :class:`EventSink`. The
CLI renders them (classic, plain, tty, json); tests collect them in a list.
Every event is a frozen value; ``kind`` names it in the JSON rendering.

Events are :class:`typing.NamedTuple` classes rather than structs: this
module is imported by every build, the replayed no-op one included, and
importing ``msgspec`` (or creating fifteen frozen slotted dataclasses) costs
more than the rest of that path. A named tuple would compare equal to
any tuple with the same items, so :func:`_distinct` makes events equal only to
events of their own kind. Their fields are ``_fields``; ``_asdict()`` gives them
as a dict.
"""

# No "from __future__ import annotations" here: typing.NamedTuple would compile every
# string annotation into a ForwardRef at import, which costs more than the classes.

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, TypeVar

_T = TypeVar("_T", bound=tuple[Any, ...])


def _same_kind_eq(self: tuple[Any, ...], other: object) -> bool:
    if not isinstance(other, tuple):
        return NotImplemented  # e.g. unittest.mock.ANY decides
    return type(self) is type(other) and tuple.__eq__(self, other)


def _same_kind_ne(self: tuple[Any, ...], other: object) -> bool:
    equal = _same_kind_eq(self, other)
    return equal if equal is NotImplemented else not equal


def _distinct(cls: type[_T]) -> type[_T]:
    """Make ``cls`` values equal only to values of the same class (not to plain tuples).

    Hashing stays the tuple's: values that compare equal still hash alike.
    """
    cls.__eq__ = _same_kind_eq  # type: ignore[method-assign,assignment]
    cls.__ne__ = _same_kind_ne  # type: ignore[method-assign,assignment]
    return cls


@_distinct
class StepRef(NamedTuple):
    """Where a step stands: global step number and its place in its stage."""

    number: int  # 1-based over the whole build, as the classic builder counts
    total: int
    stage: str  # stage name, or its index as text
    stage_position: int  # 1-based within the stage (FROM is 1)
    stage_total: int
    text: str  # the instruction as the user wrote it (after the keyword, unexpanded)
    line: int
    triggers: int = 0  # a FROM step: how many ONBUILD triggers of its base it runs
    # a ``--label`` step: not in the Dockerfile; the classic builder shows one per label
    cli_label: bool = False
    # BuildKit's name for the step (``[stage k/n] TEXT``), or "" where BuildKit makes no
    # vertex (ENV, LABEL, CMD…, FROM scratch): see hoist.builder.vertices
    vertex: str = ""


@_distinct
class BuildStarted(NamedTuple):
    total_steps: int
    stages: tuple[str, ...]
    kind = "build-started"


@_distinct
class StepStarted(NamedTuple):
    step: StepRef
    kind = "step-started"


@_distinct
class StepCached(NamedTuple):
    step: StepRef
    image_id: str
    kind = "step-cached"


@_distinct
class ContainerStarted(NamedTuple):
    step: StepRef
    container_id: str
    kind = "container-started"


@_distinct
class StepOutput(NamedTuple):
    step: StepRef
    stream: str  # "stdout" | "stderr"
    data: bytes
    kind = "step-output"


@_distinct
class ContainerRemoved(NamedTuple):
    step: StepRef
    container_id: str
    kind = "container-removed"


@_distinct
class ContainerKept(NamedTuple):
    """The intermediate container stays (``--rm=false``, or its command failed)."""

    step: StepRef
    container_id: str
    kind = "container-kept"


@_distinct
class StepDone(NamedTuple):
    step: StepRef
    image_id: str
    cached: bool
    seconds: float
    miss_reason: str | None = None
    kind = "step-done"


@_distinct
class StepFailed(NamedTuple):
    step: StepRef
    message: str
    seconds: float
    kind = "step-failed"


@_distinct
class BuildWarning(NamedTuple):
    message: str
    line: int | None = None
    kind = "warning"


@_distinct
class BuildDone(NamedTuple):
    image_id: str
    tags: tuple[str, ...] = ()
    seconds: float = 0.0
    kind = "build-done"


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

"""What a build returns: the image and what each step did.

Named tuples, not structs: a replayed no-op build returns these too, and
that path stays clear of ``msgspec`` and ``dataclasses`` (see :mod:`hoist.builder.events`).
"""

# No "from __future__ import annotations" here: typing.NamedTuple would compile every
# string annotation into a ForwardRef at import, which costs more than the classes.

from typing import NamedTuple


class StepResult(NamedTuple):
    number: int
    stage: str
    instruction: str  # as written, e.g. "RUN npm install"
    line: int
    cached: bool
    image_id: str
    seconds: float
    miss_reason: str | None = None


class BuildResult(NamedTuple):
    image_id: str
    tags: tuple[str, ...]
    steps: tuple[StepResult, ...]
    seconds: float
    warnings: tuple[str, ...] = ()

    @property
    def cache_hits(self) -> int:
        return sum(1 for step in self.steps if step.cached)

"""What a build returns: the image and what each step did."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StepResult:
    number: int
    stage: str
    instruction: str  # as written, e.g. "RUN npm install"
    line: int
    cached: bool
    image_id: str
    seconds: float
    miss_reason: str | None = None


@dataclass(frozen=True, slots=True)
class BuildResult:
    image_id: str
    tags: tuple[str, ...]
    steps: tuple[StepResult, ...]
    seconds: float
    warnings: tuple[str, ...] = ()

    @property
    def cache_hits(self) -> int:
        return sum(1 for step in self.steps if step.cached)

"""Where something came from in a Dockerfile."""

from __future__ import annotations

import msgspec


class SourceRange(msgspec.Struct, frozen=True):
    """1-based, inclusive line range of an instruction in its Dockerfile."""

    start: int
    end: int

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"

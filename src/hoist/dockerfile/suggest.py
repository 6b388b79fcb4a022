""""Did you mean" suggestions (BuildKit: edit distance below 3) and short quotes of user text."""

from __future__ import annotations

from collections.abc import Iterable

MAX_WORD = 32
MAX_QUOTE = 80


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (callers keep both words short)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate (case-insensitive) at distance < 3, or None."""
    if len(word) > MAX_WORD:
        return None
    scored = sorted((edit_distance(word.lower(), c.lower()), c) for c in candidates)
    return scored[0][1] if scored and scored[0][0] < 3 else None


def shorten(text: str) -> str:
    """``text`` cut to a readable length for a message."""
    return text if len(text) <= MAX_QUOTE else text[:MAX_QUOTE] + "..."

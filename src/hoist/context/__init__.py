"""The build context: ``.dockerignore`` matching (and, later, walking and checksums).

This package may read the context directory but never runs processes.
"""

from __future__ import annotations

from hoist.context.ignore import (
    IgnoreMatcher,
    IgnorePattern,
    find_ignore_file,
    load_ignore,
    parse_ignore,
)

__all__ = ["IgnoreMatcher", "IgnorePattern", "find_ignore_file", "load_ignore", "parse_ignore"]

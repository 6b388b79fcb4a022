"""Compare images by what matters to a user: config fields and the merged filesystem.

An :class:`ImageSnapshot` is computed the same way from any docker-archive
(what ``docker save`` and ``hoist save`` write) or from an OCI image layout, so
an image hoist built can be held against one Docker's BuildKit built from the
same Dockerfile (the recorded ``tests/compat/cases/*/buildkit.json``).

* :mod:`.snapshot`: reading archives/layouts, merging layers, JSON form;
* :mod:`.diff`: :func:`diff_snapshots` and :class:`Allowance` (deliberate differences);
* :mod:`.cases`: the case directories and how their contexts are staged.
"""

from __future__ import annotations

from hoist.testing.compat.cases import (
    FIXED_MTIME,
    CompatCase,
    CompatCaseError,
    list_cases,
    load_case,
    stage_case,
)
from hoist.testing.compat.diff import Allowance, diff_snapshots, format_report, history_keyword
from hoist.testing.compat.snapshot import (
    CONFIG_FIELDS,
    FileEntry,
    HistoryItem,
    ImageSnapshot,
    dumps_snapshot,
    load_snapshot,
    snapshot_docker_archive,
    snapshot_from_parts,
    snapshot_oci_layout,
)

__all__ = [
    "CONFIG_FIELDS",
    "FIXED_MTIME",
    "Allowance",
    "CompatCase",
    "CompatCaseError",
    "FileEntry",
    "HistoryItem",
    "ImageSnapshot",
    "diff_snapshots",
    "dumps_snapshot",
    "format_report",
    "history_keyword",
    "list_cases",
    "load_case",
    "load_snapshot",
    "snapshot_docker_archive",
    "snapshot_from_parts",
    "snapshot_oci_layout",
    "stage_case",
]

"""Compatibility cases: a Dockerfile, its context, and how to build it.

A case is a directory ``tests/compat/cases/<name>/`` holding a ``Dockerfile``
(or the file ``build.json`` names), context files, and optionally:

* ``build.json``: ``{"dockerfile": "x.Dockerfile", "build_args": {...},
  "target": "stage", "tags": [...], "modes": {"rel/path": "4755"},
  "allow": {...}}`` (``allow`` is a :class:`~hoist.testing.compat.Allowance`);
* ``prepare.py``: a ``prepare(context: Path) -> None`` function that adds what
  git cannot hold (tarballs made deterministically, hardlinks, empty dirs);
* ``buildkit.json``: the recorded result (see :mod:`hoist.testing.compat`);
* ``classic.txt``: the classic builder's output transcript.

:func:`stage_case` lays the context out identically for every builder: a copy,
``prepare`` run, modes normalised (files 0644, or 0755 when executable in the
checkout; dirs 0755; then ``modes``), every mtime set to :data:`FIXED_MTIME`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from hoist.errors import UserInputError
from hoist.testing.compat.diff import Allowance

FIXED_MTIME = 1_700_000_000
#: Files of a case directory that are not part of its build context.
CASE_FILES = frozenset({"build.json", "buildkit.json", "classic.txt", "prepare.py", "__pycache__"})


class CompatCaseError(UserInputError):
    code = "compat-case"


class CompatCase(msgspec.Struct, frozen=True):
    name: str
    directory: Path
    dockerfile: str = "Dockerfile"
    build_args: Mapping[str, str] = msgspec.field(default_factory=dict)
    target: str | None = None
    tags: tuple[str, ...] = ()
    modes: Mapping[str, int] = msgspec.field(default_factory=dict)
    allow: Allowance = msgspec.field(default_factory=Allowance)

    @property
    def expected(self) -> Path:
        return self.directory / "buildkit.json"


def load_case(directory: Path) -> CompatCase:
    """Read one case directory.

    Raises:
        CompatCaseError: ``build.json`` is unreadable or has unknown keys.
    """
    spec = _read_spec(directory / "build.json")
    unknown = set(spec) - {"dockerfile", "build_args", "target", "tags", "modes", "allow", "note"}
    if unknown:
        raise CompatCaseError(f"reading {directory}/build.json: unknown keys {sorted(unknown)}")
    return CompatCase(
        name=directory.name,
        directory=directory,
        dockerfile=spec.get("dockerfile", "Dockerfile"),
        build_args=dict(spec.get("build_args", {})),
        target=spec.get("target"),
        tags=tuple(spec.get("tags", ())),
        modes={path: int(mode, 8) for path, mode in spec.get("modes", {}).items()},
        allow=Allowance.from_json(spec.get("allow")),
    )


def _read_spec(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CompatCaseError(f"reading {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise CompatCaseError(f"reading {path}: not a JSON object")
    return data


def list_cases(root: Path) -> list[CompatCase]:
    """Every case directory under ``root`` (those holding a Dockerfile or build.json), sorted."""
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return [load_case(d) for d in dirs]


def stage_case(case: CompatCase, dest: Path) -> Path:
    """Lay out the case's build context in ``dest`` (created; must not exist) and return it.

    Raises:
        CompatCaseError: ``prepare.py`` failed or a ``modes`` path is missing.
    """
    shutil.copytree(
        case.directory, dest, symlinks=True, ignore=lambda _d, names: CASE_FILES & set(names)
    )
    _run_prepare(case, dest)
    _normalise_modes(dest)
    for rel, mode in case.modes.items():
        try:
            os.chmod(dest / rel, mode)
        except OSError as exc:
            raise CompatCaseError(f"staging {case.name}: chmod {rel}: {exc}") from exc
    _fix_mtimes(dest)
    return dest


def _run_prepare(case: CompatCase, dest: Path) -> None:
    script = case.directory / "prepare.py"
    if not script.exists():
        return
    spec = importlib.util.spec_from_file_location(f"_compat_prepare_{case.name}", script)
    if spec is None or spec.loader is None:
        raise CompatCaseError(f"staging {case.name}: cannot load prepare.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        module.prepare(dest)
    except Exception as exc:  # a case's own script: report, whatever it raised
        raise CompatCaseError(f"staging {case.name}: prepare.py failed: {exc!r}") from exc


def _normalise_modes(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                executable = os.stat(path).st_mode & 0o100
                os.chmod(path, 0o755 if executable else 0o644)


def _fix_mtimes(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in (*filenames, *dirnames):
            os.utime(os.path.join(dirpath, name), (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
    os.utime(root, (FIXED_MTIME, FIXED_MTIME))

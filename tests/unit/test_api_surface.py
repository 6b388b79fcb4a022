"""``hoist.build``: the real parameters, shown without importing the builder."""

from __future__ import annotations

import inspect
import subprocess
import sys

import hoist
from hoist.builder.options import BuildOptions


def test_hoist_build_shows_its_parameters_and_maps_them_onto_the_options() -> None:
    shown = inspect.signature(hoist.build).parameters
    assert list(shown)[:5] == ["context", "dockerfile", "tags", "build_args", "target"]
    # every parameter but the store and the sink is a build option of the same name
    assert set(shown) - {"root", "sink"} <= set(BuildOptions._fields)
    assert "current directory" in (hoist.build.__doc__ or "")


def test_import_hoist_stays_light() -> None:
    code = "import sys, hoist; print(sorted(m for m in sys.modules if m.startswith('hoist')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['hoist', 'hoist.errors']"

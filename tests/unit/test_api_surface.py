"""``hoist.build``: the real parameters, shown without importing the builder."""

from __future__ import annotations

import inspect
import subprocess
import sys

import hoist
from hoist.builder import api


def test_hoist_build_has_the_parameters_of_the_builder() -> None:
    shown = inspect.signature(hoist.build)
    real = inspect.signature(api.build)
    assert list(shown.parameters) == list(real.parameters)
    for name, parameter in real.parameters.items():
        assert shown.parameters[name].kind == parameter.kind, name
        assert shown.parameters[name].default == parameter.default, name
    assert "iidfile" in shown.parameters and "dockerfile" in shown.parameters
    assert "current directory" in (hoist.build.__doc__ or "")


def test_import_hoist_stays_light() -> None:
    code = "import sys, hoist; print(sorted(m for m in sys.modules if m.startswith('hoist')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['hoist', 'hoist.errors']"

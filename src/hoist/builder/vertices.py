"""BuildKit's names for a stage's steps, as its progress output shows them.

BuildKit turns only some instructions into vertices of its build graph, and
numbers them within the stage: ``[2/5] WORKDIR /usr/app``. Measured against
docker 20.10's BuildKit:

- FROM an image is vertex 1 (``FROM docker.io/library/busybox:local``, the
  reference normalised, without ``AS name``); ``FROM scratch`` and ``FROM
  <stage>`` make none, and the numbering starts at the next vertex.
- RUN, COPY, ADD and WORKDIR are counted in the stage's total; each is a
  vertex except ``WORKDIR /``, which is counted in the total but neither
  shown nor numbered.
- Every other instruction (ENV, ARG, LABEL, CMD…) is configuration only: no
  vertex, not counted.
- In a Dockerfile of more than one stage the number is prefixed with the stage
  name, or ``stage-N`` for an unnamed stage N.

An empty name means the step has no vertex: ``--progress plain`` and ``tty``
leave it out.
"""

from __future__ import annotations

import posixpath

from hoist.dockerfile import instructions as ins
from hoist.errors import InvalidReference
from hoist.models.reference import Reference
from hoist.plan import PlannedStage

_COUNTED = (ins.Run, ins.Copy, ins.Add, ins.Workdir)


def stage_vertices(planned: PlannedStage, multi_stage: bool) -> tuple[str, tuple[str, ...]]:
    """The FROM step's vertex name and each instruction's ("" where BuildKit shows none)."""
    stage = planned.stage
    prefix = f"{stage.name or f'stage-{stage.index}'} " if multi_stage else ""
    from_image = planned.base_stage is None and planned.base.lower() != "scratch"
    total = int(from_image) + sum(isinstance(i, _COUNTED) for i in stage.instructions)
    first = f"[{prefix}1/{total}] FROM {_normalised(planned.base)}" if from_image else ""
    names, position = [], int(from_image)
    for instr in stage.instructions:
        if not isinstance(instr, _COUNTED) or _is_root_workdir(instr):
            names.append("")
            continue
        position += 1
        names.append(f"[{prefix}{position}/{total}] {step_text(instr.original)}")
    return first, tuple(names)


def step_text(original: str) -> str:
    """The instruction as the builders print it: keyword upper-cased, one line."""
    keyword, _, rest = original.strip().partition(" ")
    return f"{keyword.upper()} {rest}".strip()


def _is_root_workdir(instr: ins.Instruction) -> bool:
    return isinstance(instr, ins.Workdir) and posixpath.normpath(instr.path) in ("/", "//")


def _normalised(ref: str) -> str:
    try:
        return str(Reference.parse(ref))
    except InvalidReference:
        return ref

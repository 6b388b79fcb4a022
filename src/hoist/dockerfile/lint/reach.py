"""Which stages a build needs, for linting only what ``docker build`` lints.

``docker build`` reports the findings of instruction-level rules only for the
stages the target needs (``docker build --check`` reports them all). A stage
needs the stage it is built ``FROM``, the stages its ``COPY``/``ADD --from``
name (by name or index) and the stages its ``RUN --mount=…,from=…`` name.
"""

from __future__ import annotations

from hoist.dockerfile.lint.model import FileView, Instr, StageView


def needed_stages(view: FileView, target: str) -> set[int] | None:
    """Indices of the stages building ``target`` needs ('' = the last stage).

    Returns None when ``target`` names no stage (the build reports that).
    """
    if not view.stages:
        return set()
    by_name = {s.name.lower(): s.index for s in view.stages if s.name}
    start = by_name.get(target.lower()) if target else view.stages[-1].index
    if start is None:
        return None
    needed: set[int] = set()
    todo = [start]
    while todo:
        index = todo.pop()
        if index in needed:
            continue
        needed.add(index)
        todo.extend(_dependencies(view.stages[index], by_name, len(view.stages)))
    return needed


def _dependencies(stage: StageView, by_name: dict[str, int], count: int) -> list[int]:
    refs = [stage.base] + [ref for instr in stage.instrs for ref in _stage_refs(instr)]
    out: list[int] = []
    for ref in refs:
        key = ref.lower()
        if key in by_name and by_name[key] < stage.index:
            out.append(by_name[key])
        elif key.isdigit() and int(key) < min(count, stage.index):
            out.append(int(key))
    return out


def _stage_refs(instr: Instr) -> list[str]:
    if instr.name in ("copy", "add"):
        source = instr.flag("from")
        return [source] if source else []
    if instr.name == "run":
        return [
            value.partition("=")[2]
            for key, raw in instr.flags
            if key == "mount" and raw
            for value in raw.split(",")
            if value.startswith("from=")
        ]
    return []


def stage_of_line(view: FileView, line: int) -> int | None:
    """The index of the stage whose lines hold ``line`` (None before the first FROM)."""
    found = None
    for stage in view.stages:
        if stage.from_.source.start <= line:
            found = stage.index
    return found

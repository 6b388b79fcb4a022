"""Renderers of build events: classic, plain, tty, json and quiet.

``make_renderer(mode, stream)`` returns an object with ``emit(event)`` and
``close()``. ``auto`` picks ``tty`` on a terminal and ``classic`` otherwise.
"""

from __future__ import annotations

from typing import TextIO

from hoist.builder.events import Event, StepFailed, StepStarted


def new_vertex(event: Event) -> str | None:
    """The name BuildKit's views (plain, tty) show for a step not shown yet, or None.

    A step shows once it starts if BuildKit makes a vertex of it
    (:mod:`hoist.builder.vertices`), and a configuration step only if it fails,
    so that its error shows.
    """
    step = getattr(event, "step", None)
    if isinstance(event, StepFailed):
        return step.vertex or step.text
    if isinstance(event, StepStarted) and step.vertex:
        return step.vertex
    return None


class Renderer:
    def emit(self, event: Event) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def make_renderer(
    mode: str, stream: TextIO, *, quiet: bool = False, remove: bool = True
) -> Renderer:
    """The renderer for ``mode``; ``remove`` is ``--rm`` (or ``--force-rm``): see classic."""
    if quiet:
        from hoist.cli.render.quiet import QuietRenderer

        return QuietRenderer(stream)
    if mode == "auto":
        mode = "tty" if stream.isatty() else "classic"
    if mode == "classic":
        from hoist.cli.render.classic import ClassicRenderer

        return ClassicRenderer(stream, remove=remove)
    if mode == "plain":
        from hoist.cli.render.plain import PlainRenderer

        return PlainRenderer(stream)
    if mode == "json":
        from hoist.cli.render.jsonl import JsonRenderer

        return JsonRenderer(stream)
    from hoist.cli.render.frame import LazyTtyRenderer  # rich only once there is work to draw

    return LazyTtyRenderer(stream)

"""``--progress tty``: the frame of :mod:`hoist.cli.render.frame`, drawn live with rich.

One line per step (``[+] Building 3.2s (4/6)`` header, ``=> [2/4] RUN …  1.2s``),
the last lines of the running step's output below it. The view is redrawn in
place and left on screen when the build ends.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from hoist.builder import events as ev
from hoist.cli.render import Renderer
from hoist.cli.render.frame import Frame


class TtyRenderer(Renderer):
    def __init__(self, stream: TextIO, frame: Frame | None = None) -> None:
        self._frame = frame or Frame()
        self._console = Console(file=stream, highlight=False)
        self._live = Live(console=self._console, refresh_per_second=8, transient=False)
        self._live.start()
        self._live.update(self._render())

    def emit(self, event: ev.Event) -> None:
        self._frame.apply(event)
        self._live.update(self._render())

    def close(self) -> None:
        self._live.update(self._render())
        self._live.stop()

    def _render(self) -> Group:
        return Group(*(Text(text, style=style) for text, style in self._frame.lines()))

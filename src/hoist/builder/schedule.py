"""Running stages in dependency order, independent ones at the same time.

A stage starts once every stage it needs (its ``FROM <stage>`` and its
``COPY --from`` stages) is built. With one stage, or when every stage needs
the one before it, everything runs in the calling thread; otherwise a small
thread pool runs the stages whose dependencies are done. On the first failure,
or on ^C/SIGTERM in the main thread, ``stop`` is called (it kills the running
containers, so the other stages end quickly), the pool drains, and the first
error is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hoist.plan import PlannedStage

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

MAX_PARALLEL_STAGES = 4
_WAKE_SECONDS = 0.2


def dependencies(planned: PlannedStage) -> set[int]:
    needed = {dep.stage for dep in planned.depends_on}
    if planned.base_stage is not None:
        needed.add(planned.base_stage)
    return needed


def is_chain(stages: Sequence[PlannedStage]) -> bool:
    """True when no two stages could run at once (each needs the one before it)."""
    return all(stages[i - 1].index in dependencies(stages[i]) for i in range(1, len(stages)))


def run_stages(
    stages: Sequence[PlannedStage], run: Callable[[PlannedStage], None], stop: Callable[[], None]
) -> None:
    """Call ``run`` once per stage, each after the stages it depends on.

    Raises:
        whatever ``run`` raised first; KeyboardInterrupt / ContainerInterrupted.
    """
    if is_chain(stages):
        for planned in stages:
            run(planned)
        return
    # imported here: concurrent.futures brings logging, ~9 ms a one-stage build need not pay
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(MAX_PARALLEL_STAGES, len(stages)), "hoist-stage") as pool:
        try:
            _schedule(stages, run, pool)
        except BaseException:
            stop()
            raise


def _schedule(
    stages: Sequence[PlannedStage], run: Callable[[PlannedStage], None], pool: ThreadPoolExecutor
) -> None:
    from concurrent.futures import FIRST_COMPLETED, wait

    waiting = {p.index: p for p in stages}
    planned_indices = set(waiting)
    done: set[int] = set()
    running: dict[Future[None], int] = {}
    while waiting or running:
        for index, planned in list(waiting.items()):
            if dependencies(planned) & planned_indices <= done:
                running[pool.submit(run, planned)] = index
                del waiting[index]
        # a timeout, so that this thread wakes up now and then: a signal that went to a
        # worker thread only trips Python's flag, and its handler runs in this thread's next
        # bytecode, which an untimed wait on stages that never end would never reach (a
        # safeguard: Linux hands a signal sent to the process to its main thread first)
        finished, _ = wait(running, timeout=_WAKE_SECONDS, return_when=FIRST_COMPLETED)
        for future in finished:
            future.result()
            done.add(running.pop(future))

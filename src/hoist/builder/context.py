"""Everything one build shares: the store, the snapshotter, the runtime, the event sink."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from hoist.builder.events import EventSink
from hoist.builder.memo import Inputs
from hoist.builder.options import BuildOptions
from hoist.context.checksum import ChecksumCache
from hoist.context.ignore import IgnoreMatcher
from hoist.dockerfile import Dockerfile
from hoist.runtime.oci import OciRuntime
from hoist.snapshot.base import Snapshotter
from hoist.store import Store


class BuildContext(msgspec.Struct):
    """The services a step needs, passed in (never looked up globally)."""

    store: Store
    snapshotter: Snapshotter
    runtime_factory: Callable[[], OciRuntime]
    sink: EventSink
    options: BuildOptions
    dockerfile: Dockerfile
    context_dir: Path | None
    ignore: IgnoreMatcher | None
    checksums: ChecksumCache
    source_date_epoch: int | None
    inputs: Inputs = msgspec.field(default_factory=Inputs)
    _runtime: OciRuntime | None = None
    _active: set[str] = msgspec.field(default_factory=set)
    _stopping: bool = False
    _lock: threading.Lock = msgspec.field(default_factory=threading.Lock)

    @property
    def runtime(self) -> OciRuntime:
        """The OCI runtime, found on first use (a build without RUN needs none)."""
        if self._runtime is None:
            self._runtime = self.runtime_factory()
        return self._runtime

    @contextmanager
    def container(self, cid: str) -> Iterator[None]:
        """Mark ``cid`` as running, so that :meth:`kill_containers` can stop it."""
        with self._lock:
            self._active.add(cid)
        try:
            yield
        finally:
            with self._lock:
                self._active.discard(cid)

    def kill_containers(self) -> None:
        """Kill every running RUN container (a stage failed, or the build was interrupted)."""
        with self._lock:
            self._stopping = True
            running = list(self._active)
        for cid in running:
            self.runtime.kill_and_delete(cid)

    @property
    def stopping(self) -> bool:
        """Whether the build is being stopped: a container that dies now was killed by
        hoist, and is not kept as a failed step's."""
        return self._stopping

    def where(self, line: int) -> str:
        return f"{self.dockerfile.filename}:{line}"

    def created(self) -> str:
        """The ``created`` timestamp of new images and history entries (RFC 3339, UTC)."""
        seconds = self.source_date_epoch if self.source_date_epoch is not None else time.time()
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))

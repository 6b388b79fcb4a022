"""^C and SIGTERM during ``hoist build``: the container dies, nothing stays mounted or on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hoist.snapshot.mounts import mount_points
from hoist.store import Store
from hoist.testing.busybox import make_busybox_image

pytestmark = pytest.mark.root


def _sleepers(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if cmdline.startswith(f"sleep {marker}".encode()):
                found.append(int(entry))
    return found


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.parametrize(("stages", "signum"), [(1, signal.SIGINT), (1, signal.SIGTERM),
                                                (2, signal.SIGINT), (2, signal.SIGTERM)])
def test_signal_during_a_build_cleans_up(tmp_path: Path, stages: int, signum: int) -> None:
    root = tmp_path / "store"
    with Store.open(root) as store:
        make_busybox_image(store, tmp_path)
    marker = str(700000 + abs(hash(str(tmp_path))) % 100000)
    text = "".join(f"FROM busybox:local AS s{i}\nRUN sleep {marker}\n" for i in range(stages))
    if stages > 1:  # a final stage that needs them all, so they run at the same time
        text += "FROM busybox:local\n" + "".join(
            f"COPY --from=s{i} /bin/busybox /b{i}\n" for i in range(stages))
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(text)
    proc = subprocess.Popen([sys.executable, "-m", "hoist", "--root", str(root), "build",
                             str(tmp_path / "ctx")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: len(_sleepers(marker)) >= stages, "the RUN never started")
    finally:
        proc.send_signal(signum)
    assert proc.wait(timeout=30) == 128 + signum
    assert b"Traceback" not in proc.stderr.read()  # type: ignore[union-attr]
    deadline = time.monotonic() + 5
    while _sleepers(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sleepers(marker) == []
    assert [m for m in mount_points() if m.startswith(str(tmp_path))] == []
    for name in ("snapshots", "containers"):
        assert not (root / name).exists() or list((root / name).iterdir()) == []

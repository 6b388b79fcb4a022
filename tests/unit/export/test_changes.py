"""``--change`` lines for ``hoist import``."""

from __future__ import annotations

import pytest

from hoist.errors import UserInputError
from hoist.export.changes import apply_changes
from hoist.image import ContainerConfig


@pytest.mark.parametrize(
    ("change", "field", "want"),
    [
        ('CMD ["sh", "-c", "echo hi"]', "cmd", ("sh", "-c", "echo hi")),
        ("CMD echo hi", "cmd", ("/bin/sh", "-c", "echo hi")),
        ('ENTRYPOINT ["/bin/busybox"]', "entrypoint", ("/bin/busybox",)),
        ("ENTRYPOINT [not json", "entrypoint", ("/bin/sh", "-c", "[not json")),
        ('ENV A=1 B="two words"', "env", ("A=1", "B=two words")),
        ("ENV LEGACY value with spaces", "env", ("LEGACY=value with spaces",)),
        ("EXPOSE 80 53/udp", "exposed_ports", ("80/tcp", "53/udp")),
        ('LABEL a=b "c d"=e', "labels", {"a": "b", "c d": "e"}),
        ("USER nobody:nogroup", "user", "nobody:nogroup"),
        ('VOLUME ["/data", "/logs"]', "volumes", ("/data", "/logs")),
        ("VOLUME /data /logs", "volumes", ("/data", "/logs")),
        ("WORKDIR /app", "working_dir", "/app"),
        ("STOPSIGNAL SIGKILL", "stop_signal", "SIGKILL"),
        ("ONBUILD RUN make", "on_build", ("RUN make",)),
        ("cmd lower case works", "cmd", ("/bin/sh", "-c", "lower case works")),
    ],
)
def test_each_instruction(change: str, field: str, want: object) -> None:
    assert getattr(apply_changes(ContainerConfig(), [change]), field) == want


def test_changes_apply_in_order_and_env_replaces() -> None:
    config = apply_changes(
        ContainerConfig(env=("PATH=/bin",)),
        ["ENV A=1", "ENV A=2", "WORKDIR /a", "WORKDIR b", "ENV PATH=/usr/bin"],
    )
    assert config.env == ("A=2", "PATH=/usr/bin")
    assert config.working_dir == "/a/b"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("RUN rm -rf /", "RUN is not one of"),
        ("FROM busybox", "FROM is not one of"),
        ("", "empty"),
        ("CMD", "missing arguments"),
        ("ENV A=1 =x", "KEY=VALUE"),
        ('LABEL a="unterminated', "No closing quotation"),
        ("WORKDIR", "missing path"),
    ],
)
def test_bad_changes(change: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        apply_changes(ContainerConfig(), [change])

from __future__ import annotations

import pytest

from hoist.errors import InvalidReference
from hoist.models import Reference

HEX = "a" * 64


@pytest.mark.parametrize(
    ("text", "full", "familiar"),
    [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("index.docker.io/x/y:1", "docker.io/x/y:1", "x/y:1"),
        ("user/app", "docker.io/user/app:latest", "user/app:latest"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t"),
        (
            f"localhost:5000/a/b@sha256:{HEX}",
            f"localhost:5000/a/b@sha256:{HEX}",
            f"localhost:5000/a/b@sha256:{HEX}",
        ),
        ("quay.io/org/img:v1.0-rc_1", "quay.io/org/img:v1.0-rc_1", "quay.io/org/img:v1.0-rc_1"),
        ("a__b/c-d--e.f", "docker.io/a__b/c-d--e.f:latest", "a__b/c-d--e.f:latest"),
    ],
)
def test_normalisation(text: str, full: str, familiar: str) -> None:
    ref = Reference.parse(text)
    assert str(ref) == full
    assert ref.familiar == familiar


@pytest.mark.parametrize(
    "text",
    [
        "",
        " busybox",
        "Busybox",
        "a:b:c",
        "a/../b",
        "a//b",
        "-a",
        "a-",
        "a@sha256:../../x",
        f"a@md5:{HEX}",
        "a:" + "t" * 129,
        HEX,
        "localhost:5000/",
        "a:",
        "a@",
        "x/y:tag@sha256:",
    ],
)
def test_rejected(text: str) -> None:
    with pytest.raises(InvalidReference):
        Reference.parse(text)


def test_with_tag_checks_the_tag() -> None:
    ref = Reference.parse("busybox")
    assert str(ref.with_tag("v2")) == "docker.io/library/busybox:v2"
    with pytest.raises(InvalidReference):
        ref.with_tag("../x")

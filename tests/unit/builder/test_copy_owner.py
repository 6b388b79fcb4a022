from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hoist.builder.steps.owner import parse_chmod, resolve_chown
from hoist.errors import UserInputError
from hoist.fs.resolve import Root
from tests.unit.context.trees import make_tree


@pytest.mark.parametrize(
    ("spec", "mode", "is_dir", "expected"),
    [
        ("755", 0o100644, False, 0o755),
        ("0600", 0o100755, False, 0o600),
        ("4755", 0o100644, False, 0o4755),
        ("u+x", 0o100644, False, 0o744),
        ("a+x", 0o100644, False, 0o755),
        ("+x", 0o100644, False, 0o755),
        ("go-rwx", 0o100755, False, 0o700),
        ("a=rX", 0o100644, False, 0o444),
        ("a=rX", 0o100744, False, 0o555),
        ("a=rX", 0o40700, True, 0o555),
        ("u=rwx,g=rx,o=", 0o100000, False, 0o750),
        ("g-r+w", 0o100644, False, 0o624),
        ("u+s", 0o100755, False, 0o4755),
        ("o+t", 0o40755, True, 0o1755),
        ("u=rw", 0o104755, False, 0o655),  # "=" clears the setuid bit it covers
    ],
)
def test_chmod(spec: str, mode: int, is_dir: bool, expected: int) -> None:
    assert parse_chmod(spec).apply(mode, is_dir=is_dir) == expected


@pytest.mark.parametrize("spec", ["", "8", "u+q", "x+r", "u", "12345", "u+x,"])
def test_chmod_invalid(spec: str) -> None:
    with pytest.raises(UserInputError, match="chmod"):
        parse_chmod(spec)


@pytest.fixture
def image(tmp_path: Path) -> Iterator[Root]:
    make_tree(
        tmp_path / "img",
        {
            "etc/passwd": (
                "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nbad:x:zz:1::/:\n"
            ),
            "etc/group": "root:x:0:\nstaff:x:50:\napp:x:1001:\n",
        },
    )
    with Root(tmp_path / "img") as root:
        yield root


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("0", (0, 0)),
        ("1000", (1000, 1000)),  # a bare number is uid and gid
        ("app", (1000, 1001)),  # a name takes its primary group
        ("app:staff", (1000, 50)),
        ("app:7", (1000, 7)),
        ("5:staff", (5, 50)),
        ("12:34", (12, 34)),
    ],
)
def test_chown(image: Root, spec: str, expected: tuple[int, int]) -> None:
    assert resolve_chown(spec, image) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [("ghost", "no 'ghost'"), ("app:ghosts", "no 'ghosts'"), ("bad", "no 'bad'"), (":5", "empty")],
)
def test_chown_errors(image: Root, spec: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        resolve_chown(spec, image)


def test_chown_without_passwd(tmp_path: Path) -> None:
    make_tree(tmp_path / "img", {"bin": None})
    with pytest.raises(UserInputError, match="/etc/passwd"):
        resolve_chown("app", Root(tmp_path / "img"))
    assert resolve_chown("7:8", Root(tmp_path / "img")) == (7, 8)

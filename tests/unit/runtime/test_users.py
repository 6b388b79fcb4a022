"""USER resolution against the image's own passwd and group files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.errors import UserInputError
from hoist.runtime.users import ExecUser, UserNotFound, resolve_user
from hoist.testing.rootfs import GROUP, PASSWD


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text(PASSWD)
    (tmp_path / "etc" / "group").write_text(GROUP)
    return tmp_path


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("", ExecUser(0, 0, (44,), "/root")),
        ("root", ExecUser(0, 0, (44,), "/root")),
        ("app", ExecUser(1000, 1000, (29, 44), "/home/app")),
        ("1000", ExecUser(1000, 1000, (29, 44), "/home/app")),
        ("app:audio", ExecUser(1000, 29, (), "/home/app")),
        ("app:7", ExecUser(1000, 7, (), "/home/app")),
        ("4242", ExecUser(4242, 0, (), "/")),
        ("4242:4243", ExecUser(4242, 4243, (), "/")),
        ("daemon", ExecUser(1, 1, (), "/usr/sbin")),
    ],
)
def test_resolution(rootfs: Path, user: str, expected: ExecUser) -> None:
    assert resolve_user(rootfs, user) == expected


@pytest.mark.parametrize("user", ["ghost", "app:ghosts"])
def test_unknown_names_are_errors(rootfs: Path, user: str) -> None:
    with pytest.raises(UserNotFound):
        resolve_user(rootfs, user)


@pytest.mark.parametrize("user", ["0:0:0", "app:", ":0", "99999999999"])
def test_malformed_values_are_errors(rootfs: Path, user: str) -> None:
    with pytest.raises(UserInputError):
        resolve_user(rootfs, user)


def test_symlinked_passwd_resolves_inside_the_rootfs(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc" / "passwd").symlink_to("/etc/passwd")  # the host's has root, daemon…
    (rootfs / "etc" / "group").symlink_to("../../../../../../etc/group")
    with pytest.raises(UserNotFound):
        resolve_user(rootfs, "daemon")
    assert resolve_user(rootfs, "0") == ExecUser(0, 0, (), "/")


def test_missing_files_allow_numeric_ids_only(tmp_path: Path) -> None:
    assert resolve_user(tmp_path, "12:34") == ExecUser(12, 34, (), "/")
    with pytest.raises(UserNotFound):
        resolve_user(tmp_path, "root")

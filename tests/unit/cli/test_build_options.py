"""``hoist build`` flags as docker reads them: --label/--build-arg without ``=``, stdin."""

from __future__ import annotations

import argparse
import io
import tarfile

import pytest

from hoist.cli import build as cli_build
from hoist.cli.main import build_parser
from hoist.errors import ContextError, UserInputError


def _options(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: bytes = b"") -> object:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    args = build_parser(["build", *argv]).parse_args(["build", *argv])
    assert isinstance(args, argparse.Namespace)
    return cli_build.options_from_args(args)


def test_a_label_without_a_value_is_an_empty_label(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("novalue", "from-env")  # labels never read the environment
    options = _options(monkeypatch, "--label", "novalue", "--label", "k=v=w", ".")
    assert options.labels == {"novalue": "", "k": "v=w"}  # type: ignore[attr-defined]


def test_a_build_arg_without_a_value_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FROM_ENV", "1")
    monkeypatch.delenv("UNSET_ARG", raising=False)
    argv = ("--build-arg", "FROM_ENV", "--build-arg", "UNSET_ARG", "--build-arg", "E=", ".")
    options = _options(monkeypatch, *argv)
    assert options.build_args == {"FROM_ENV": "1", "E": ""}  # type: ignore[attr-defined]


def test_an_item_without_a_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserInputError, match="invalid label '=v'"):
        _options(monkeypatch, "--label", "=v", ".")


@pytest.mark.parametrize("flag", [["-f", "-"], ["-f-"], ["--file", "-"]])
def test_dockerfile_on_stdin_with_a_directory_context(
    monkeypatch: pytest.MonkeyPatch, flag: list[str]
) -> None:
    options = _options(monkeypatch, *flag, "ctx", stdin=b"FROM scratch\n")
    assert options.context == "ctx"  # type: ignore[attr-defined]
    assert options.dockerfile is None  # type: ignore[attr-defined]
    assert options.dockerfile_text == "FROM scratch\n"  # type: ignore[attr-defined]


def test_stdin_cannot_be_both_dockerfile_and_context(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserInputError, match="stdin for both"):
        _options(monkeypatch, "-f", "-", "-", stdin=b"FROM scratch\n")


def _tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = 13
        tar.addfile(info, io.BytesIO(b"FROM scratch\n"))
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [_tar(), b"\x1f\x8b\x08\x00rest", b"BZh91AY", b"\xfd7zXZ\x00\x00", b"\x28\xb5\x2f\xfd\x00"],
    ids=["tar", "gzip", "bzip2", "xz", "zstd"],
)
def test_a_context_archive_on_stdin_is_refused_clearly(data: bytes) -> None:
    with pytest.raises(ContextError, match="a context archive on stdin is not supported"):
        cli_build.dockerfile_from_stdin(data)


def test_a_dockerfile_on_stdin_keeps_bytes_that_are_not_utf8() -> None:
    text = cli_build.dockerfile_from_stdin(b"FROM scratch\nLABEL a=\xff\n")
    assert text.encode("utf-8", errors="surrogateescape") == b"FROM scratch\nLABEL a=\xff\n"

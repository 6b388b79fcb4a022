"""Syntax nodes → typed instructions → :class:`Dockerfile` (stages + global ARGs).

Each ``_to_<keyword>`` function checks the argument count and flags the way
BuildKit's ``instructions`` package does and returns one frozen value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec

from hoist.dockerfile import instructions as ins
from hoist.dockerfile.durations import parse_duration
from hoist.dockerfile.flags import FlagError, Flags, parse_flags
from hoist.dockerfile.modes import parse_chmod
from hoist.dockerfile.mounts import parse_mount
from hoist.dockerfile.suggest import shorten, suggest
from hoist.dockerfile.syntax import Node, SyntaxTree, parse_bytes, parse_text
from hoist.errors import DockerfileError

_STAGE_NAME = re.compile(r"[a-z][a-z0-9\-_.]*")
_SMALL_INT = re.compile(r"[0-9]{1,9}")


class _Where(msgspec.Struct, frozen=True):
    """Where errors point: file name, text, and the node being converted."""

    filename: str
    text: str
    node: Node

    def error(self, message: str, code: str, hint: str | None = None) -> DockerfileError:
        return DockerfileError(
            message, line=self.node.source.start, end_line=self.node.source.end,
            filename=self.filename, source=self.text, code=code, hint=hint,
        )


def _base(node: Node, flags: Flags) -> dict[str, Any]:
    return {"source": node.source, "original": node.original, "flags": flags.names}


def _need(where: _Where, count: int, at_least: bool = True) -> None:
    n, name = len(where.node.args), where.node.keyword.upper()
    if at_least and n < count:
        word = "one argument" if count == 1 else f"{count} arguments"
        raise where.error(f"{name} requires at least {word}", "missing-argument")
    if not at_least and n != count:
        raise where.error(f"{name} requires exactly one argument", "wrong-argument-count")


def _to_from(w: _Where, f: Flags) -> ins.From:
    args = w.node.args
    if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
        raise w.error("FROM requires either one or three arguments", "wrong-argument-count",
                      hint="write FROM <image> [AS <name>]")
    name = args[2].lower() if len(args) == 3 else None
    if name is not None and not _STAGE_NAME.fullmatch(name):
        raise w.error(f"invalid name for build stage: {args[2]!r}, name can't start with a "
                      "number or contain symbols", "invalid-stage-name")
    return ins.From(image=args[0], name=name, platform=f.string("platform"), **_base(w.node, f))


def _to_command(
    cls: type[ins.Cmd] | type[ins.Entrypoint],
) -> Callable[[_Where, Flags], ins.Instruction]:
    def convert(w: _Where, f: Flags) -> ins.Instruction:
        return cls(command=w.node.args, json_form=w.node.json_form, **_base(w.node, f))
    return convert


def _to_run(w: _Where, f: Flags) -> ins.Run:
    _need(w, 1)
    network, security = f.string("network"), f.string("security")
    if network not in (None, "default", "none", "host"):
        raise w.error(f"invalid --network value {network!r}: want default, none or host",
                      "invalid-flag")
    if security not in (None, "sandbox", "insecure"):
        raise w.error(f"invalid --security value {security!r}: want sandbox or insecure",
                      "invalid-flag")
    mounts = tuple(parse_mount(text) for text in f.list("mount"))
    return ins.Run(command=w.node.args, json_form=w.node.json_form, heredocs=w.node.heredocs,
                   mounts=mounts, network=network, security=security,
                   devices=f.list("device"), **_base(w.node, f))


def _to_shell(w: _Where, f: Flags) -> ins.Shell:
    _need(w, 1)
    if not w.node.json_form:
        raise w.error("SHELL requires the arguments to be in JSON form", "shell-not-json",
                      hint='write SHELL ["/bin/sh", "-c"]')
    return ins.Shell(argv=w.node.args, **_base(w.node, f))


def _pairs(w: _Where) -> tuple[tuple[str, str], ...]:
    if w.node.legacy_kv:
        return ((w.node.args[0], w.node.args[1]),)
    pairs = tuple(tuple(word.split("=", 1)) for word in w.node.args)
    for key, _ in pairs:
        if not key:
            raise w.error(f"{w.node.keyword.upper()} names can not be blank", "blank-name")
    return pairs  # type: ignore[return-value]


def _to_env(w: _Where, f: Flags) -> ins.Env:
    return ins.Env(pairs=_pairs(w), legacy=w.node.legacy_kv, **_base(w.node, f))


def _to_label(w: _Where, f: Flags) -> ins.Label:
    return ins.Label(pairs=_pairs(w), legacy=w.node.legacy_kv, **_base(w.node, f))


def _to_arg(w: _Where, f: Flags) -> ins.Arg:
    _need(w, 1)
    decls = []
    for word in w.node.args:
        name, sep, value = word.partition("=")
        if not name:
            raise w.error("ARG names can not be blank", "blank-name")
        decls.append(ins.ArgDecl(name, value if sep else None))
    return ins.Arg(args=tuple(decls), **_base(w.node, f))


def _checked_chmod(w: _Where, value: str | None) -> str | None:
    if value is not None and "$" not in value:
        try:
            parse_chmod(value)
        except ValueError as exc:
            raise w.error(str(exc), "invalid-chmod") from exc
    return value


def _file_copy(w: _Where, f: Flags) -> dict[str, Any]:
    args = w.node.args
    if len(args) < 2:
        raise w.error(f"{w.node.keyword.upper()} requires at least two arguments, but only "
                      "one was provided. Destination could not be determined.",
                      "missing-destination")
    return {
        "sources": args[:-1], "dest": args[-1], "json_form": w.node.json_form,
        "heredocs": w.node.heredocs, "chown": f.string("chown"),
        "chmod": _checked_chmod(w, f.string("chmod")), "link": bool(f.boolean("link")),
        "exclude": f.list("exclude"), **_base(w.node, f),
    }


def _to_copy(w: _Where, f: Flags) -> ins.Copy:
    return ins.Copy(from_=f.string("from"), parents=bool(f.boolean("parents")),
                    **_file_copy(w, f))


def _to_add(w: _Where, f: Flags) -> ins.Add:
    return ins.Add(keep_git_dir=bool(f.boolean("keep-git-dir")), checksum=f.string("checksum"),
                   unpack=f.boolean("unpack"), **_file_copy(w, f))


def _single(cls: type, attr: str) -> Callable[[_Where, Flags], ins.Instruction]:
    def convert(w: _Where, f: Flags) -> ins.Instruction:
        _need(w, 1, at_least=w.node.keyword == "maintainer")
        return cls(**{attr: w.node.args[0]}, **_base(w.node, f))  # type: ignore[no-any-return]
    return convert


def _to_expose(w: _Where, f: Flags) -> ins.Expose:
    _need(w, 1)
    return ins.Expose(ports=w.node.args, **_base(w.node, f))


def _to_volume(w: _Where, f: Flags) -> ins.Volume:
    _need(w, 1)
    if any(not path.strip() for path in w.node.args):
        raise w.error("VOLUME specified can not be an empty string", "empty-volume")
    return ins.Volume(paths=w.node.args, **_base(w.node, f))


def _to_onbuild(w: _Where, f: Flags) -> ins.Onbuild:
    sub = w.node.sub
    if sub is None:
        raise w.error("ONBUILD requires at least one argument", "missing-argument")
    if sub.keyword == "onbuild":
        raise w.error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", "onbuild-chain")
    if sub.keyword in ("from", "maintainer"):
        raise w.error(f"{sub.keyword.upper()} isn't allowed as an ONBUILD trigger",
                      "onbuild-trigger")
    trigger = to_instruction(sub, w.filename, w.text)
    return ins.Onbuild(trigger=trigger, expression=w.node.rest, **_base(w.node, f))


def _healthcheck_durations(w: _Where, f: Flags) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for flag in ("interval", "timeout", "start-period", "start-interval"):
        text = f.string(flag)
        try:
            out[flag.replace("-", "_")] = None if text is None else parse_duration(text, flag)
        except ValueError as exc:
            raise w.error(str(exc), "invalid-duration") from exc
    return out


def _to_healthcheck(w: _Where, f: Flags) -> ins.Healthcheck:
    _need(w, 1)
    kind, rest = w.node.args[0].upper(), w.node.args[1:]
    if kind == "NONE":
        if rest or f.names:
            raise w.error("HEALTHCHECK NONE takes no arguments", "invalid-healthcheck")
        return ins.Healthcheck(test=("NONE",), **_base(w.node, f))
    if kind != "CMD":
        raise w.error(f"unknown type {w.node.args[0]!r} in HEALTHCHECK (try CMD)",
                      "invalid-healthcheck")
    if not rest:
        raise w.error("HEALTHCHECK CMD requires a command", "missing-argument")
    test = ("CMD", *rest) if w.node.json_form else ("CMD-SHELL", rest[0])
    retries = f.string("retries")
    if retries is not None and not _SMALL_INT.fullmatch(retries):
        raise w.error(f"invalid --retries value {retries!r}: want a non-negative integer",
                      "invalid-healthcheck")
    return ins.Healthcheck(test=test, retries=None if retries is None else int(retries),
                           **_healthcheck_durations(w, f), **_base(w.node, f))  # type: ignore[arg-type]


_CONVERTERS: dict[str, Callable[[_Where, Flags], ins.Instruction]] = {
    "from": _to_from, "run": _to_run, "cmd": _to_command(ins.Cmd),
    "entrypoint": _to_command(ins.Entrypoint), "shell": _to_shell, "env": _to_env,
    "label": _to_label, "arg": _to_arg, "copy": _to_copy, "add": _to_add,
    "maintainer": _single(ins.Maintainer, "name"), "user": _single(ins.User, "user"),
    "workdir": _single(ins.Workdir, "path"), "stopsignal": _single(ins.Stopsignal, "signal"),
    "expose": _to_expose, "volume": _to_volume, "onbuild": _to_onbuild,
    "healthcheck": _to_healthcheck,
}


def to_instruction(node: Node, filename: str = "Dockerfile", text: str = "") -> ins.Instruction:
    """Convert one syntax node.

    Raises:
        DockerfileError: ``unknown-instruction`` (with a "did you mean"), a
            bad flag, or wrong arguments for the keyword.
    """
    where = _Where(filename, text, node)
    convert = _CONVERTERS.get(node.keyword)
    if convert is None:
        raise _unknown(where)
    try:
        return convert(where, parse_flags(node.keyword, node.flags))
    except FlagError as exc:
        raise where.error(str(exc), exc.code) from exc


def _unknown(where: _Where) -> DockerfileError:
    word = where.node.keyword_text
    close = suggest(word, ins.KEYWORDS)
    suffix = f" (did you mean {close}?)" if close else ""
    return where.error(f"unknown instruction: {shorten(word)}{suffix}", "unknown-instruction")


def build_dockerfile(tree: SyntaxTree) -> ins.Dockerfile:
    """Group converted instructions into global ARGs and stages.

    Raises:
        DockerfileError: ``empty-dockerfile``, ``no-stage`` (an instruction
            other than ARG before the first FROM), or any conversion error.
    """
    meta: list[ins.Arg] = []
    stages: list[tuple[ins.From, list[ins.Instruction]]] = []
    for node in tree.nodes:
        instr = to_instruction(node, tree.filename, tree.text)
        if isinstance(instr, ins.From):
            stages.append((instr, []))
        elif stages:
            stages[-1][1].append(instr)
        elif isinstance(instr, ins.Arg):
            meta.append(instr)
        else:
            raise _Where(tree.filename, tree.text, node).error(
                f"{node.keyword.upper()} before the first FROM: no build stage in current "
                "context", "no-stage", hint="start the Dockerfile with FROM <image>")
    if not stages:
        raise DockerfileError(
            f"the Dockerfile ({tree.filename}) has no build stage" if tree.nodes else
            f"the Dockerfile ({tree.filename}) cannot be empty",
            filename=tree.filename, source=tree.text, code="empty-dockerfile",
            line=tree.nodes[-1].source.start if tree.nodes else None)
    return ins.Dockerfile(tree.directives.values, tree.directives.escape, tuple(meta),
                          tuple(_stage(i, f, body) for i, (f, body) in enumerate(stages)),
                          tree.text, tree.filename)


def _stage(index: int, from_: ins.From, body: list[ins.Instruction]) -> ins.Stage:
    end = body[-1].source.end if body else from_.source.end
    return ins.Stage(index, from_.name, from_.image, from_.platform, from_, tuple(body),
                     type(from_.source)(from_.source.start, end))


def parse(text: str, filename: str = "Dockerfile") -> ins.Dockerfile:
    """Parse Dockerfile text into a :class:`Dockerfile`.

    Raises:
        DockerfileError: any syntax or instruction error, with line and source.
    """
    return build_dockerfile(parse_text(text, filename))


def parse_dockerfile_bytes(data: bytes, filename: str = "Dockerfile") -> ins.Dockerfile:
    """Like :func:`parse` for raw bytes (invalid UTF-8 is a DockerfileError)."""
    return build_dockerfile(parse_bytes(data, filename))


def require_supported(
    instruction: ins.Base, supported: set[str] | frozenset[str], dockerfile: ins.Dockerfile
) -> None:
    """Raise ``unsupported-flag`` naming the first flag the engine cannot honour.

    Raises:
        DockerfileError: when ``instruction`` carries a flag not in ``supported``.
    """
    extra = ins.unsupported_flags(instruction, supported)
    if extra:
        raise DockerfileError(
            f"{instruction.keyword} --{extra[0]}: this flag is not supported by hoist yet",
            line=instruction.source.start, end_line=instruction.source.end,
            filename=dockerfile.filename, source=dockerfile.text, code="unsupported-flag",
            hint="remove the flag, or build with BuildKit")

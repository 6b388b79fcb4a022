"""Step evaluation: expand one instruction against the state before it, and update the state.

BuildKit expands, per instruction (everything else is passed verbatim):

    ENV, LABEL   names and values          ARG        names and defaults
    ADD, COPY    sources, destination, --chown, --chmod, --from, --checksum,
                 --exclude, heredoc bodies whose delimiter was not quoted
    WORKDIR USER STOPSIGNAL VOLUME EXPOSE  their words
    RUN          the values of its --mount fields (the command is the shell's job)

Every word of one instruction sees the values from *before* it, so
``ENV a=1 b=$a`` gives ``b`` the old ``a``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from typing import Any

from msgspec.structs import replace

from hoist.dockerfile import instructions as ins
from hoist.dockerfile.modes import parse_chmod
from hoist.dockerfile.mounts import Mount
from hoist.dockerfile.shell import expand_heredoc, expand_word
from hoist.dockerfile.syntax import Heredoc
from hoist.errors import DockerfileError
from hoist.plan.ports import normalise_ports
from hoist.plan.state import StageState, set_pair

Expander = Callable[[str], str]


def _located(err: DockerfileError, instr: ins.Base, df: ins.Dockerfile | None) -> DockerfileError:
    return DockerfileError(
        f"{instr.keyword}: {err.message}", line=instr.source.start, end_line=instr.source.end,
        filename=df.filename if df else "Dockerfile", source=df.text if df else None,
        code=err.code, hint=err.hint,
    )


def evaluate(
    instr: ins.Instruction, state: StageState, dockerfile: ins.Dockerfile | None = None
) -> tuple[ins.Instruction, StageState]:
    """Return (the instruction with BuildKit's expansions applied, the state after it).

    Raises:
        DockerfileError: an expansion error, an invalid value after expansion
            (``--chmod``, a port, an empty VOLUME), located at the instruction.
    """
    env = state.expansion_env()
    escape = state.scope.escape

    def expand(word: str) -> str:
        return expand_word(word, env, escape).value

    try:
        expanded = _expand(instr, expand, env, escape)
        if isinstance(expanded, ins.Run) and expanded.mounts:
            expanded = replace(expanded, mounts=tuple(
                _mount_target(m, state.workdir) for m in expanded.mounts))
        return expanded, _apply(expanded, state)
    except ValueError as exc:
        err = DockerfileError(str(exc), code="invalid-value")
        raise _located(err, instr, dockerfile) from exc
    except DockerfileError as exc:
        raise _located(exc, instr, dockerfile) from exc


def _expand(instr: ins.Instruction, x: Expander, env: Mapping[str, str], esc: str
            ) -> ins.Instruction:
    if isinstance(instr, ins.Env | ins.Label):
        return replace(instr, pairs=tuple((x(k), x(v)) for k, v in instr.pairs))
    if isinstance(instr, ins.Arg):
        return replace(instr, args=tuple(
            ins.ArgDecl(x(a.name), None if a.default is None else x(a.default))
            for a in instr.args))
    if isinstance(instr, ins.Copy | ins.Add):
        return _expand_file_copy(instr, x, env, esc)
    if isinstance(instr, ins.Workdir):
        return replace(instr, path=x(instr.path))
    if isinstance(instr, ins.User):
        return replace(instr, user=x(instr.user))
    if isinstance(instr, ins.Stopsignal):
        return replace(instr, signal=x(instr.signal))
    if isinstance(instr, ins.Volume):
        return _expand_volume(instr, x)
    if isinstance(instr, ins.Expose):
        return replace(instr, ports=tuple(x(p) for p in instr.ports))
    if isinstance(instr, ins.Run):
        return replace(instr, mounts=tuple(_expand_mount(m, x) for m in instr.mounts))
    return instr


def _expand_volume(instr: ins.Volume, x: Expander) -> ins.Volume:
    paths = tuple(x(p) for p in instr.paths)
    if any(not p.strip() for p in paths):
        raise ValueError("VOLUME specified can not be an empty string")
    return replace(instr, paths=paths)


def _expand_mount(mount: Mount, x: Expander) -> Mount:
    changes: dict[str, Any] = {name: x(getattr(mount, name)) for name in mount.__struct_fields__
               if isinstance(getattr(mount, name), str) and name not in ("text", "type")}
    return replace(mount, **changes)


def _mount_target(mount: Mount, workdir: str) -> Mount:
    """A relative mount target joins the working directory; ``/`` is refused."""
    if not mount.target:
        return mount
    target = resolve_workdir(workdir, mount.target)
    if target == "/":
        raise ValueError(f"mount {mount.text!r}: cannot mount over /")
    return replace(mount, target=target)


def _opt(value: str | None, x: Expander) -> str | None:
    return None if value is None else x(value)


def _expand_file_copy(instr: ins.Copy | ins.Add, x: Expander, env: Mapping[str, str],
                      esc: str) -> ins.Copy | ins.Add:
    heredocs = tuple(
        Heredoc(h.name, expand_heredoc(h.content, env, esc).value, h.expand, h.chomp)
        if h.expand else h for h in instr.heredocs)
    chmod = _opt(instr.chmod, x)
    if chmod is not None:
        parse_chmod(chmod)
    common: dict[str, Any] = {"sources": tuple(x(s) for s in instr.sources), "dest": x(instr.dest),
              "chown": _opt(instr.chown, x), "chmod": chmod, "heredocs": heredocs,
              "exclude": tuple(x(e) for e in instr.exclude)}
    if isinstance(instr, ins.Copy):
        return replace(instr, from_=_opt(instr.from_, x), **common)
    return replace(instr, checksum=_opt(instr.checksum, x), **common)


def _declare_args(instr: ins.Arg, state: StageState) -> StageState:
    build = dict(state.scope.build_args)
    meta = dict(state.scope.meta_args)
    platform = dict(state.scope.platform_args)
    args = list(state.args)
    for decl in instr.args:
        if decl.name in build:
            value: str | None = build[decl.name]
        elif decl.name in platform:  # BuildKit supplies these like build args
            value = platform[decl.name]
        elif decl.default is not None:
            value = decl.default
        else:
            value = meta.get(decl.name)
        args = _set_arg(args, decl.name, value)
    return state.with_(args=tuple(args))


def _set_arg(args: list[tuple[str, str | None]], name: str, value: str | None
             ) -> list[tuple[str, str | None]]:
    for i, (k, _) in enumerate(args):
        if k == name:
            return [*args[:i], (name, value), *args[i + 1:]]
    return [*args, (name, value)]


def resolve_workdir(current: str, path: str) -> str:
    """WORKDIR semantics: relative paths join the current one; the result is clean."""
    joined = posixpath.join(current or "/", path)
    return posixpath.normpath("/" + joined.lstrip("/")).replace("//", "/")


def _healthcheck(instr: ins.Healthcheck) -> dict[str, object]:
    if instr.test == ("NONE",):
        return {"Test": ["NONE"]}
    check: dict[str, object] = {"Test": list(instr.test)}
    for key, value in (("Interval", instr.interval), ("Timeout", instr.timeout),
                       ("StartPeriod", instr.start_period),
                       ("StartInterval", instr.start_interval), ("Retries", instr.retries)):
        if value:
            check[key] = value
    return check


def _apply(instr: ins.Instruction, state: StageState) -> StageState:
    """The state after ``instr`` (already expanded)."""
    if isinstance(instr, ins.Env):
        env = state.env
        for key, value in instr.pairs:
            env = set_pair(env, key, value)
        return state.with_(env=env)
    if isinstance(instr, ins.Arg):
        return _declare_args(instr, state)
    return _apply_config(instr, state)


def _apply_config(instr: ins.Instruction, s: StageState) -> StageState:
    """Config-only instructions (no ARG/ENV scope change)."""
    if isinstance(instr, ins.Label):
        labels = s.labels
        for key, value in instr.pairs:
            labels = set_pair(labels, key, value)
        return s.with_(labels=labels)
    if isinstance(instr, ins.Workdir):
        return s.with_(workdir=resolve_workdir(s.workdir, instr.path))
    if isinstance(instr, ins.User):
        return s.with_(user=instr.user)
    if isinstance(instr, ins.Shell):
        return s.with_(shell=instr.argv, shell_set=True)
    if isinstance(instr, ins.Cmd):
        return s.with_(cmd=command_config(instr, s.shell), cmd_set=True)
    if isinstance(instr, ins.Entrypoint):
        cmd = s.cmd if s.cmd_set else None
        return s.with_(entrypoint=command_config(instr, s.shell), cmd=cmd)
    return _apply_metadata(instr, s)


def _apply_metadata(instr: ins.Instruction, s: StageState) -> StageState:
    if isinstance(instr, ins.Expose):
        ports = set(s.exposed_ports) | set(normalise_ports(instr.ports))
        return s.with_(exposed_ports=tuple(sorted(ports)))
    if isinstance(instr, ins.Volume):
        return s.with_(volumes=tuple(sorted(set(s.volumes) | set(instr.paths))))
    if isinstance(instr, ins.Stopsignal):
        return s.with_(stop_signal=instr.signal)
    if isinstance(instr, ins.Healthcheck):
        return s.with_(healthcheck=_healthcheck(instr))
    if isinstance(instr, ins.Onbuild):
        return s.with_(onbuild=(*s.onbuild, instr.expression))
    if isinstance(instr, ins.Maintainer):
        return s.with_(author=instr.name)
    return s


def command_config(instr: ins.Command, shell: tuple[str, ...]) -> tuple[str, ...]:
    """The Cmd/Entrypoint value docker stores: exec form as is, shell form under SHELL.

    An empty shell-form ``CMD``/``ENTRYPOINT`` stores an empty list (docker's
    ``ENTRYPOINT []`` / bare ``ENTRYPOINT`` clears it).
    """
    if instr.json_form:
        return instr.command
    if not instr.command:
        return ()
    return (*shell, instr.command[0])


def heredoc_script(instr: ins.Run) -> Heredoc | None:
    """The heredoc a RUN executes as a file (``RUN <<EOF`` whose body starts with ``#!``).

    BuildKit mounts such a body read-only at ``/dev/pipes/<name>`` (mode
    0755) and runs ``[*shell, "/dev/pipes/<name>"]``; the engine must provide
    that file when this returns a heredoc.
    """
    docs = instr.heredocs
    if instr.json_form or len(docs) != 1 or not _is_only_marker(instr, docs[0]):
        return None
    return docs[0] if docs[0].content.startswith("#!") else None


def _is_only_marker(instr: ins.Run, doc: Heredoc) -> bool:
    text = instr.command[0].strip() if instr.command else ""
    return text.lstrip("<").lstrip("-").strip().strip("'\"") == doc.name and text.startswith("<<")


def run_argv(instr: ins.Run, shell: tuple[str, ...]) -> tuple[str, ...]:
    """The argv a RUN executes.

    Exec form: as written. Shell form: ``[*shell, text]``. A RUN whose whole
    command is one heredoc marker runs the body as the script (or, with a
    ``#!`` line, the file ``/dev/pipes/<name>``: see :func:`heredoc_script`);
    otherwise the heredoc bodies follow the command text so the shell reads
    them itself.
    """
    if instr.json_form:
        return instr.command
    text = instr.command[0] if instr.command else ""
    docs = instr.heredocs
    script = heredoc_script(instr)
    if script is not None:
        return (*shell, f"/dev/pipes/{script.name}")
    if len(docs) == 1 and _is_only_marker(instr, docs[0]):
        return (*shell, docs[0].content)
    return (*shell, text + "".join(f"\n{d.content}{d.name}" for d in docs))

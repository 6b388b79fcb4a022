"""What docker writes: history ``created_by`` strings, ENTRYPOINT x CMD, ONBUILD triggers.

``created_by`` follows what BuildKit (docker/dockerfile:1, recorded with
Docker 20.10 in ``tests/compat/cases``) writes: layer-making steps end in
``# buildkit``; metadata steps use Go's ``%v``/``%q`` formatting
(``CMD ["npm" "start"]``, ``VOLUME [/data]``, ``EXPOSE map[80/tcp:{}]``,
``HEALTHCHECK &{["CMD" "x"] "0s" "0s" "0s" '\\x00'}``).
"""

from __future__ import annotations

from hoist.dockerfile import instructions as ins
from hoist.dockerfile.convert import to_instruction
from hoist.dockerfile.syntax import node_from_line
from hoist.errors import DockerfileError
from hoist.models.source import SourceRange
from hoist.plan.evaluate import run_argv
from hoist.plan.ports import normalise_ports
from hoist.plan.state import StageState

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t", "\v": "\\v", "\\": "\\\\"}


def go_quote(text: str) -> str:
    """Go's ``%q`` of a string (``strconv.Quote``)."""
    out = ['"']
    for ch in text:
        if ch in _GO_ESCAPES or ch == '"':
            out.append(_GO_ESCAPES.get(ch, '\\"'))
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_rune(value: int) -> str:
    """Go's ``%q`` of an integer (a quoted rune literal: 4 → ``'\\x04'``)."""
    ch = chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
    if ch == "'":
        return "'\\''"
    body = go_quote(ch)[1:-1].replace('\\"', '"')
    return f"'{body}'"


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String`` (``0s``, ``1m30s``, ``500ms``, ``1.5µs``)."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns / size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = _trim(rest / 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    return f"{sign}{minutes}m{text}" if minutes else sign + text


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


def go_list(items: tuple[str, ...] | list[str], quoted: bool) -> str:
    """Go's ``%v`` (or ``%q`` with ``quoted``) of a ``[]string``."""
    return "[" + " ".join(go_quote(i) if quoted else i for i in items) + "]"


def container_argv(entrypoint: tuple[str, ...] | None, cmd: tuple[str, ...] | None
                   ) -> tuple[str, ...]:
    """What a container runs: Entrypoint followed by Cmd (docker's rule).

    With a shell-form ENTRYPOINT (``[sh, -c, text]``) the Cmd items become the
    shell's ``$0 $1 …`` and are ignored by the script, which is the "table"
    row "/bin/sh -c exec_entry p1_entry" of the Dockerfile reference.
    """
    return (*(entrypoint or ()), *(cmd or ()))


def _run_created_by(instr: ins.Run, state: StageState) -> str:
    args = state.history_args()
    prefix = [f"|{len(args)}", *(f"{k}={v}" for k, v in args)] if args else []
    return "RUN " + " ".join([*prefix, *run_argv(instr, state.shell)]) + " # buildkit"


def _healthcheck_text(instr: ins.Healthcheck) -> str:
    durations = [instr.interval, instr.timeout, instr.start_period]
    if instr.start_interval:
        durations.append(instr.start_interval)
    parts = [go_list(instr.test, quoted=True),
             *(go_quote(go_duration(d or 0)) for d in durations),
             go_rune(instr.retries or 0)]
    return "HEALTHCHECK &{" + " ".join(parts) + "}"


def created_by(instr: ins.Instruction, before: StageState, after: StageState) -> str | None:
    """The history ``created_by`` for an *expanded* instruction (None: no history entry).

    ``before``/``after`` are the states around it (RUN needs the ARGs in
    scope; CMD/ENTRYPOINT/WORKDIR the resulting config).
    """
    if isinstance(instr, ins.Run):
        return _run_created_by(instr, before)
    if isinstance(instr, ins.Copy | ins.Add):
        return f"{instr.keyword} {' '.join((*instr.sources, instr.dest))} # buildkit"
    if isinstance(instr, ins.Env | ins.Label):
        return f"{instr.keyword} " + " ".join(f"{k}={v}" for k, v in instr.pairs)
    if isinstance(instr, ins.Arg):
        return "ARG " + " ".join(
            a.name if a.default is None else f"{a.name}={a.default}" for a in instr.args)
    return _metadata_created_by(instr, after)


def _metadata_created_by(instr: ins.Instruction, after: StageState) -> str | None:
    if isinstance(instr, ins.Cmd):
        return "CMD " + go_list(after.cmd or (), quoted=True)
    if isinstance(instr, ins.Entrypoint):
        return "ENTRYPOINT " + go_list(after.entrypoint or (), quoted=True)
    if isinstance(instr, ins.Workdir):
        return f"WORKDIR {after.workdir}"
    if isinstance(instr, ins.Volume | ins.Shell):
        items = instr.paths if isinstance(instr, ins.Volume) else instr.argv
        return f"{instr.keyword} {go_list(items, quoted=False)}"
    if isinstance(instr, ins.Expose):
        ports = sorted(normalise_ports(instr.ports))
        return "EXPOSE map[" + " ".join(f"{p}:{{}}" for p in ports) + "]"
    if isinstance(instr, ins.Healthcheck):
        return _healthcheck_text(instr)
    simple: dict[type, str] = {ins.User: "user", ins.Stopsignal: "signal", ins.Maintainer: "name"}
    for cls, attr in simple.items():
        if isinstance(instr, cls):
            return f"{instr.keyword} {getattr(instr, attr)}"
    return None


def creates_layer(instr: ins.Instruction, workdir: str = "") -> bool:
    """True for the steps whose history entry is not ``empty_layer``.

    RUN, COPY and ADD always; WORKDIR (``workdir`` is the directory it sets)
    unless it is ``/``: BuildKit runs ``mkdir -p`` for any other, and commits
    its layer even when the directory was there (an empty layer).
    """
    if isinstance(instr, ins.Workdir):
        return workdir != "/"
    return isinstance(instr, ins.Run | ins.Copy | ins.Add)


def onbuild_triggers(expressions: tuple[str, ...] | list[str], escape: str = "\\"
                     ) -> tuple[ins.Instruction, ...]:
    """Parse a parent image's ``OnBuild`` expressions into instructions to run first.

    Raises:
        DockerfileError: ``invalid-onbuild`` for a trigger that does not parse
            or is not allowed (FROM, MAINTAINER, ONBUILD).
    """
    out = []
    for number, text in enumerate(expressions, start=1):
        try:
            node = node_from_line(text, escape, SourceRange(number, number))
            if node.keyword in ("onbuild", "from", "maintainer"):
                raise DockerfileError(f"{node.keyword.upper()} isn't allowed as an ONBUILD "
                                      "trigger", code="invalid-onbuild")
            out.append(to_instruction(node, "ONBUILD trigger", text))
        except DockerfileError as exc:
            raise DockerfileError(f"parent image ONBUILD trigger {text[:200]!r}: {exc.message}",
                                  code="invalid-onbuild") from exc
    return tuple(out)

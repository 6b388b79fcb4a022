"""One frozen value per Dockerfile instruction, each with its source range.

Values hold what was *written* (unexpanded); :mod:`hoist.plan` expands them
step by step. ``flags`` on each value is the set of flag names the user
wrote, so :func:`unsupported_flags` can name any flag the engine does not
honour — nothing is silently dropped.
"""

from __future__ import annotations

import msgspec

from hoist.dockerfile.mounts import Mount
from hoist.dockerfile.syntax import Heredoc
from hoist.models.source import SourceRange


class Base(msgspec.Struct, frozen=True, kw_only=True):
    """Fields every instruction has."""

    source: SourceRange
    original: str = ""
    flags: frozenset[str] = msgspec.field(default_factory=frozenset)

    keyword = ""


class From(Base, frozen=True, kw_only=True):
    image: str
    name: str | None = None
    platform: str | None = None
    keyword = "FROM"


class Command(Base, frozen=True, kw_only=True):
    """RUN, CMD, ENTRYPOINT: exec form (``json_form``) argv, or ``(shell text,)``."""

    command: tuple[str, ...]
    json_form: bool = False


class Run(Command, frozen=True, kw_only=True):
    heredocs: tuple[Heredoc, ...] = ()
    mounts: tuple[Mount, ...] = ()
    network: str | None = None
    security: str | None = None
    devices: tuple[str, ...] = ()
    keyword = "RUN"


class Cmd(Command, frozen=True, kw_only=True):
    keyword = "CMD"


class Entrypoint(Command, frozen=True, kw_only=True):
    keyword = "ENTRYPOINT"


class Shell(Base, frozen=True, kw_only=True):
    argv: tuple[str, ...]
    keyword = "SHELL"


class Env(Base, frozen=True, kw_only=True):
    """``pairs`` of (name, value) as written; ``legacy`` for ``ENV k v``."""

    pairs: tuple[tuple[str, str], ...]
    legacy: bool = False
    keyword = "ENV"


class Label(Base, frozen=True, kw_only=True):
    pairs: tuple[tuple[str, str], ...]
    legacy: bool = False
    keyword = "LABEL"


class Maintainer(Base, frozen=True, kw_only=True):
    name: str
    keyword = "MAINTAINER"


class Expose(Base, frozen=True, kw_only=True):
    ports: tuple[str, ...]
    keyword = "EXPOSE"


class FileCopy(Base, frozen=True, kw_only=True):
    """ADD and COPY: sources, destination and the flags they share."""

    sources: tuple[str, ...]
    dest: str
    json_form: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    exclude: tuple[str, ...] = ()


class Copy(FileCopy, frozen=True, kw_only=True):
    from_: str | None = None
    parents: bool = False
    keyword = "COPY"


class Add(FileCopy, frozen=True, kw_only=True):
    keep_git_dir: bool = False
    checksum: str | None = None
    unpack: bool | None = None
    keyword = "ADD"


class Volume(Base, frozen=True, kw_only=True):
    paths: tuple[str, ...]
    keyword = "VOLUME"


class User(Base, frozen=True, kw_only=True):
    user: str
    keyword = "USER"


class Workdir(Base, frozen=True, kw_only=True):
    path: str
    keyword = "WORKDIR"


class ArgDecl(msgspec.Struct, frozen=True):
    """One name of an ARG, with its default (None when declared without ``=``)."""

    name: str
    default: str | None = None


class Arg(Base, frozen=True, kw_only=True):
    args: tuple[ArgDecl, ...]
    keyword = "ARG"


class Stopsignal(Base, frozen=True, kw_only=True):
    signal: str
    keyword = "STOPSIGNAL"


class Healthcheck(Base, frozen=True, kw_only=True):
    """``test`` is docker's ``Healthcheck.Test``: ``("NONE",)``, ``("CMD", *argv)``
    or ``("CMD-SHELL", text)``. Durations in nanoseconds, None when not given."""

    test: tuple[str, ...]
    interval: int | None = None
    timeout: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    retries: int | None = None
    keyword = "HEALTHCHECK"


class Onbuild(Base, frozen=True, kw_only=True):
    """``trigger`` is the typed inner instruction; ``expression`` its text."""

    trigger: Instruction
    expression: str
    keyword = "ONBUILD"


Instruction = (
    From | Run | Cmd | Entrypoint | Shell | Env | Label | Maintainer | Expose | Copy | Add
    | Volume | User | Workdir | Arg | Stopsignal | Healthcheck | Onbuild
)

KEYWORDS = (
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
    "WORKDIR",
)


class Stage(msgspec.Struct, frozen=True):
    """A build stage: its FROM (unexpanded), and the instructions after it.

    ``name`` is the lower-cased ``AS`` name (None without one); ``index`` is
    its position in the file (``COPY --from=0``).
    """

    index: int
    name: str | None
    base: str
    platform: str | None
    from_: From
    instructions: tuple[Instruction, ...]
    source: SourceRange


class Dockerfile(msgspec.Struct, frozen=True):
    """A whole Dockerfile: directives, global ARGs (before the first FROM), stages."""

    directives: tuple[tuple[str, str], ...]
    escape: str
    meta_args: tuple[Arg, ...]
    stages: tuple[Stage, ...]
    text: str
    filename: str = "Dockerfile"

    def directive(self, key: str) -> str | None:
        return dict(self.directives).get(key.lower())


def unsupported_flags(instruction: Base, supported: frozenset[str] | set[str]) -> tuple[str, ...]:
    """Names of the flags ``instruction`` was given that are not in ``supported``, sorted."""
    return tuple(sorted(instruction.flags - set(supported)))

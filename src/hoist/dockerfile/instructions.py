"""One frozen value per Dockerfile instruction, each with its source range.

Values hold what was *written* (unexpanded); :mod:`hoist.plan` expands them
step by step. ``flags`` on each value is the set of flag names the user
wrote, so :func:`unsupported_flags` can name any flag the engine does not
honour — nothing is silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hoist.dockerfile.mounts import Mount
from hoist.dockerfile.syntax import Heredoc
from hoist.models.source import SourceRange


@dataclass(frozen=True, slots=True, kw_only=True)
class Base:
    """Fields every instruction has."""

    source: SourceRange
    original: str = ""
    flags: frozenset[str] = field(default_factory=frozenset)

    keyword = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class From(Base):
    image: str
    name: str | None = None
    platform: str | None = None
    keyword = "FROM"


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(Base):
    """RUN, CMD, ENTRYPOINT: exec form (``json_form``) argv, or ``(shell text,)``."""

    command: tuple[str, ...]
    json_form: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Run(Command):
    heredocs: tuple[Heredoc, ...] = ()
    mounts: tuple[Mount, ...] = ()
    network: str | None = None
    security: str | None = None
    devices: tuple[str, ...] = ()
    keyword = "RUN"


@dataclass(frozen=True, slots=True, kw_only=True)
class Cmd(Command):
    keyword = "CMD"


@dataclass(frozen=True, slots=True, kw_only=True)
class Entrypoint(Command):
    keyword = "ENTRYPOINT"


@dataclass(frozen=True, slots=True, kw_only=True)
class Shell(Base):
    argv: tuple[str, ...]
    keyword = "SHELL"


@dataclass(frozen=True, slots=True, kw_only=True)
class Env(Base):
    """``pairs`` of (name, value) as written; ``legacy`` for ``ENV k v``."""

    pairs: tuple[tuple[str, str], ...]
    legacy: bool = False
    keyword = "ENV"


@dataclass(frozen=True, slots=True, kw_only=True)
class Label(Base):
    pairs: tuple[tuple[str, str], ...]
    legacy: bool = False
    keyword = "LABEL"


@dataclass(frozen=True, slots=True, kw_only=True)
class Maintainer(Base):
    name: str
    keyword = "MAINTAINER"


@dataclass(frozen=True, slots=True, kw_only=True)
class Expose(Base):
    ports: tuple[str, ...]
    keyword = "EXPOSE"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileCopy(Base):
    """ADD and COPY: sources, destination and the flags they share."""

    sources: tuple[str, ...]
    dest: str
    json_form: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Copy(FileCopy):
    from_: str | None = None
    parents: bool = False
    keyword = "COPY"


@dataclass(frozen=True, slots=True, kw_only=True)
class Add(FileCopy):
    keep_git_dir: bool = False
    checksum: str | None = None
    unpack: bool | None = None
    keyword = "ADD"


@dataclass(frozen=True, slots=True, kw_only=True)
class Volume(Base):
    paths: tuple[str, ...]
    keyword = "VOLUME"


@dataclass(frozen=True, slots=True, kw_only=True)
class User(Base):
    user: str
    keyword = "USER"


@dataclass(frozen=True, slots=True, kw_only=True)
class Workdir(Base):
    path: str
    keyword = "WORKDIR"


@dataclass(frozen=True, slots=True)
class ArgDecl:
    """One name of an ARG, with its default (None when declared without ``=``)."""

    name: str
    default: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Arg(Base):
    args: tuple[ArgDecl, ...]
    keyword = "ARG"


@dataclass(frozen=True, slots=True, kw_only=True)
class Stopsignal(Base):
    signal: str
    keyword = "STOPSIGNAL"


@dataclass(frozen=True, slots=True, kw_only=True)
class Healthcheck(Base):
    """``test`` is docker's ``Healthcheck.Test``: ``("NONE",)``, ``("CMD", *argv)``
    or ``("CMD-SHELL", text)``. Durations in nanoseconds, None when not given."""

    test: tuple[str, ...]
    interval: int | None = None
    timeout: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    retries: int | None = None
    keyword = "HEALTHCHECK"


@dataclass(frozen=True, slots=True, kw_only=True)
class Onbuild(Base):
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


@dataclass(frozen=True, slots=True)
class Stage:
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


@dataclass(frozen=True, slots=True)
class Dockerfile:
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

"""The Dockerfile frontend: text → syntax nodes → typed instructions. Pure: no I/O.

Public API (stable; helper F's lint and the build engine build on it)
--------------------------------------------------------------------

Parsing::

    from hoist.dockerfile import parse, parse_bytes, Dockerfile, Stage
    df = parse(text, "Dockerfile")            # -> Dockerfile; raises DockerfileError
    df = parse_bytes(data, "Dockerfile")      # invalid UTF-8 / NUL -> DockerfileError
    df.directives / df.directive("syntax") / df.escape
    df.meta_args: tuple[Arg, ...]             # ARGs before the first FROM
    df.stages: tuple[Stage, ...]              # Stage(index, name (lower-case) | None,
                                              #   base (unexpanded), platform, from_,
                                              #   instructions, source)

Syntax layer (:mod:`hoist.dockerfile.syntax`): ``parse_text(text, filename) ->
SyntaxTree(directives, nodes, text, filename)``; ``parse_bytes`` likewise. A
``Node`` has ``keyword`` (lower), ``keyword_text`` (as written), ``args``,
``flags`` (raw ``--x=y`` words), ``rest``, ``json_form``, ``heredocs``
(``Heredoc(name, content, expand, chomp)``), ``legacy_kv`` (``ENV k v``),
``sub`` (ONBUILD's inner node), ``empty_continuation_lines``, ``source``
(:class:`SourceRange`), ``original``. Unknown keywords are kept as nodes.

Typed instructions (:mod:`hoist.dockerfile.instructions`): frozen
structs ``From Run Cmd Entrypoint Shell Env Label Maintainer Expose Copy
Add Volume User Workdir Arg Stopsignal Healthcheck Onbuild``; each has
``source``, ``original``, ``flags`` (names given) and a class attribute
``keyword``. Values are unexpanded. ``Run.mounts`` are typed
:class:`hoist.dockerfile.mounts.Mount`. ``unsupported_flags(instr, supported)``
lists flags the engine does not honour; ``require_supported(instr,
supported, dockerfile)`` raises ``unsupported-flag`` naming it.

Expansion (:mod:`hoist.dockerfile.shell`): ``expand_word(text, env, escape)
-> Expansion(words, referenced, unset)`` (``.value`` is the single word) and
``expand_words`` (splits on unquoted whitespace). ``--chmod`` values:
:mod:`hoist.dockerfile.modes` (``parse_chmod``, ``apply_chmod``).

Diagnostics (:mod:`hoist.dockerfile.diagnostics`): ``render(err) -> str``.
Every error is a :class:`hoist.errors.DockerfileError` with ``line``,
``end_line``, ``filename``, ``source`` and a kebab-case ``code``
(``unknown-instruction``, ``unknown-flag``, ``unterminated-heredoc``,
``invalid-stage-name``, ``expansion-error``, ``unsupported-flag`` …).

Scoping, stage planning, expansion per instruction, ENTRYPOINT x CMD and
history strings live in :mod:`hoist.plan`.
"""

from __future__ import annotations

from hoist.dockerfile.convert import parse, parse_dockerfile_bytes, require_supported
from hoist.dockerfile.instructions import (
    Add,
    Arg,
    ArgDecl,
    Cmd,
    Copy,
    Dockerfile,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Instruction,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stage,
    Stopsignal,
    User,
    Volume,
    Workdir,
    unsupported_flags,
)
from hoist.dockerfile.mounts import Mount

parse_bytes = parse_dockerfile_bytes

__all__ = [
    "Add", "Arg", "ArgDecl", "Cmd", "Copy", "Dockerfile", "Entrypoint", "Env", "Expose",
    "From", "Healthcheck", "Instruction", "Label", "Maintainer", "Mount", "Onbuild", "Run",
    "Shell", "Stage", "Stopsignal", "User", "Volume", "Workdir", "parse", "parse_bytes",
    "require_supported", "unsupported_flags",
]

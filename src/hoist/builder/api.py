"""Running a build: :func:`run_build` of :class:`BuildOptions`, for ``hoist.build`` and the CLI.

A rebuild whose inputs did not change is replayed from its record
(:mod:`hoist.builder.memo`); anything else takes the full path.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple

from hoist.builder.events import Event, EventSink, NullSink, StepDone
from hoist.builder.memo import Inputs, memo_identity, record, replay
from hoist.builder.options import BuildOptions
from hoist.builder.result import BuildResult
from hoist.errors import ContextError, DockerfileError, HoistError, UserInputError

if TYPE_CHECKING:
    from hoist.builder.context import BuildContext


def run_build(
    options: BuildOptions,
    *,
    root: str | os.PathLike[str] | None = None,
    sink: EventSink | None = None,
) -> BuildResult:
    """Run a build described by ``options`` (see :func:`build`).

    A rebuild whose inputs did not change is replayed from its record
    (:mod:`hoist.builder.memo`) without loading the rest of hoist; up to
    that point paths are strings (``os.path``), which spares it ``pathlib``.

    Raises:
        HoistError: see :func:`build`.
    """
    from hoist.store.location import default_root_dir

    sink = sink or NullSink()
    context_dir = _context_dir(options)
    source = _read_dockerfile(options, context_dir)
    store_root = _absolute(os.fspath(root) if root is not None else default_root_dir())
    identity = memo_identity(options, source.data, source.where, context_dir)
    if not options.no_cache and not options.check_only:
        replayed = replay(store_root, identity, options.tags, sink)
        if replayed is not None:
            _write_iidfile(options, replayed)
            return replayed
    return _full_build(options, store_root, source, context_dir, identity, sink)


def _full_build(
    options: BuildOptions,
    store_root: str,
    source: _Source,
    context_dir: str | None,
    identity: str,
    sink: EventSink,
) -> BuildResult:
    from pathlib import Path

    from hoist.runtime.signals import import_held

    import_held("msgspec")  # its import would lose a ^C landing in it (runtime/signals.py)
    from hoist.builder.executor import Executor
    from hoist.dockerfile import parse_bytes
    from hoist.store import Store

    dockerfile = parse_bytes(source.data, source.name)
    warnings = _checks(dockerfile, options, sink)
    if options.check_only:
        return BuildResult("", (), (), 0.0, warnings)
    tags = _tag_names(options.tags)  # a bad tag fails the build before any step runs
    inputs = _inputs(source, context_dir)
    tee = _Tee(sink)
    with Store.open(Path(store_root)) as store:
        ctx = _context(store, options, dockerfile, context_dir, tee, inputs)
        with store.lease():
            result = Executor(ctx).run()
        result = result._replace(warnings=(*warnings, *result.warnings))
        if not options.no_cache:
            record(store, identity, result, inputs, tee.done, tags)
    _write_iidfile(options, result)
    return result


class _Tee:
    """Passes events on, keeping the ``step-done`` ones for the build's record."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.done: list[StepDone] = []

    def emit(self, event: Event) -> None:
        if isinstance(event, StepDone):
            self.done.append(event)
        self.sink.emit(event)


#: The Dockerfile as read: its bytes, the name shown in diagnostics, and its real
#: path (or "-" for stdin). The functional form of NamedTuple on purpose: under
#: ``from __future__ import annotations`` the class form compiles each annotation
#: at import, which costs more than the rest of this module.
_Source = NamedTuple(  # noqa: UP014
    "_Source", [("data", bytes), ("name", str), ("where", str)]
)


def _read_dockerfile(options: BuildOptions, context_dir: str | None) -> _Source:
    if options.dockerfile_text is not None:
        data = options.dockerfile_text.encode("utf-8", errors="surrogateescape")
        return _Source(data, "Dockerfile", "-")
    path = _dockerfile_path(options, context_dir)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UserInputError(f"reading the Dockerfile {path}: {exc.strerror}") from exc
    return _Source(data, os.path.basename(path), os.path.realpath(path))


def _inputs(source: _Source, context_dir: str | None) -> Inputs:
    """A fresh input record, holding the ignore files a build may read (present or not)."""
    inputs = Inputs()
    if context_dir is not None:
        inputs.path(os.path.join(context_dir, ".dockerignore"))
    if source.where != "-":
        inputs.path(source.where + ".dockerignore")
    return inputs


def _tag_names(tags: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Each tag → its full name and the short form docker prints.

    Raises:
        InvalidReference: a malformed tag.
    """
    from hoist.models.reference import Reference

    refs = {tag: Reference.parse(tag) for tag in tags}
    return {tag: (str(ref), ref.familiar) for tag, ref in refs.items()}


def _write_iidfile(options: BuildOptions, result: BuildResult) -> None:
    """Write the image ID (no newline) after the build, as docker does: the image
    stays built and tagged if this fails.

    Raises:
        HoistError: the file cannot be written (exit status 1, as docker).
    """
    if options.iidfile is None:
        return
    try:
        with open(options.iidfile, "w", encoding="utf-8") as f:
            f.write(result.image_id)
    except OSError as exc:
        raise HoistError(
            f"writing the image ID to {options.iidfile}: {exc.strerror or exc}"
        ) from exc


def _checks(dockerfile: Any, options: BuildOptions, sink: EventSink) -> tuple[str, ...]:
    """Run the build checks; emit each finding as a warning.

    Raises:
        DockerfileError: the Dockerfile's ``# check=error=true`` and a finding.
    """
    from hoist.builder.events import BuildWarning
    from hoist.dockerfile.lint import lint

    report = lint(
        dockerfile.text,
        build_args=dict(options.build_args),
        filename=dockerfile.filename,
        build_target=options.target or "",
    )
    for warning in report.warnings:
        sink.emit(BuildWarning(warning.short(), warning.line or None))
    if report.failed:
        names = ", ".join(dict.fromkeys(w.rule.name for w in report.warnings))
        raise DockerfileError(
            f"lint violation found for rules: {names}",
            filename=dockerfile.filename,
            code="lint-violation",
        )
    return tuple(w.short() for w in report.warnings)


def _context_dir(options: BuildOptions) -> str | None:
    """The context's real path.

    Raises:
        ContextError: it is not a directory.
    """
    if options.context is None:
        return None
    path = options.context
    if not os.path.isdir(path):
        raise ContextError(f"reading the build context: {path} is not a directory")
    return os.path.realpath(path)


def _absolute(path: str) -> str:
    """``path`` from the current directory, as ``Path.absolute`` (no ``..`` collapsed)."""
    return path if os.path.isabs(path) else os.path.join(os.getcwd(), path)


def _dockerfile_path(options: BuildOptions, context_dir: str | None) -> str:
    if options.dockerfile is not None:
        return options.dockerfile
    if context_dir is None:
        raise UserInputError("hoist build -: the Dockerfile comes on stdin; give no -f with it")
    return os.path.join(context_dir, "Dockerfile")


def _context(
    store: object,
    options: BuildOptions,
    dockerfile: object,
    context_dir: str | None,
    sink: EventSink,
    inputs: Inputs,
) -> BuildContext:
    from pathlib import Path

    from hoist.builder.context import BuildContext
    from hoist.context.checksum import StoreChecksumCache
    from hoist.context.ignore import load_ignore
    from hoist.layer.tarwriter import source_date_epoch_from_env
    from hoist.runtime.oci import OciRuntime
    from hoist.snapshot import choose

    ignore = None
    context_path = Path(context_dir) if context_dir is not None else None
    if context_path is not None:
        df_path = Path(options.dockerfile).resolve() if options.dockerfile else None
        ignore = load_ignore(context_path, df_path)
    return BuildContext(
        store=store,  # type: ignore[arg-type]
        snapshotter=choose(store.root),  # type: ignore[attr-defined]
        runtime_factory=lambda: OciRuntime(options.runtime),  # type: ignore[arg-type]
        sink=sink,
        options=options,
        dockerfile=dockerfile,  # type: ignore[arg-type]
        context_dir=context_path,
        ignore=ignore,
        checksums=StoreChecksumCache(store),  # type: ignore[arg-type]
        source_date_epoch=source_date_epoch_from_env(dict(os.environ)),
        inputs=inputs,
    )

"""The one exception root of hoist, and its tree.

Every error hoist raises on purpose derives from :class:`HoistError`. Foreign
exceptions (``OSError``, ``sqlite3.Error``, ``tarfile.TarError`` …) are
translated at the seam where they occur with ``raise … from exc``. The CLI maps
this tree to exit codes in one place (``hoist.cli.main``); no traceback reaches
a user.

    HoistError                      code: stable kebab-case reference
    ├── UserInputError              bad input from the user or from an image
    │   ├── InvalidReference        a malformed image reference
    │   ├── InvalidDigest           a malformed digest (checked before any use)
    │   ├── DockerfileError         a Dockerfile problem, with its source range
    │   ├── ArchiveError            a corrupt, truncated or hostile archive
    │   └── ContextError            a build-context problem (missing source…)
    ├── StoreError                  the content store
    │   ├── BlobNotFound
    │   ├── DigestMismatch          content does not match its digest (corruption)
    │   ├── ImageNotFound
    │   ├── ImageInUse              rmi of an image a tag or child still needs
    │   └── StoreLocked             a lock could not be taken in time
    ├── LayerError                  diff/apply of a layer
    ├── SnapshotError               mounting or preparing a rootfs
    ├── ContainerError              the OCI runtime (crun/runc)
    ├── RegistryError               talking to a registry
    └── BuildError                  a build step failed (carries the step's output)

Messages read "doing what: cause". ``hint`` says what to do about it.
"""

from __future__ import annotations


class HoistError(Exception):
    """Root of every error hoist raises on purpose."""

    code = "hoist-error"
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UserInputError(HoistError):
    code = "invalid-input"
    exit_code = 2


class InvalidReference(UserInputError):
    code = "invalid-reference"


class InvalidDigest(UserInputError):
    code = "invalid-digest"


class DockerfileError(UserInputError):
    """A Dockerfile problem. ``line`` is 1-based; ``code`` is the kind of error.

    The rendered form (``Dockerfile:7: unknown instruction: RUNN``, the source
    lines around it and a marker) is made by ``hoist.dockerfile.diagnostics``.
    """

    code = "dockerfile-error"

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        end_line: int | None = None,
        filename: str = "Dockerfile",
        source: str | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.line = line
        self.end_line = end_line if end_line is not None else line
        self.filename = filename
        self.source = source
        if code is not None:
            self.code = code


class ArchiveError(UserInputError):
    code = "bad-archive"


class ContextError(UserInputError):
    code = "context-error"


class StoreError(HoistError):
    code = "store-error"


class BlobNotFound(StoreError):
    code = "blob-not-found"


class DigestMismatch(StoreError):
    code = "digest-mismatch"


class ImageNotFound(StoreError):
    code = "image-not-found"


class ImageInUse(StoreError):
    code = "image-in-use"


class StoreLocked(StoreError):
    code = "store-locked"


class LayerError(HoistError):
    code = "layer-error"


class SnapshotError(HoistError):
    code = "snapshot-error"


class ContainerError(HoistError):
    code = "container-error"


class RegistryError(HoistError):
    code = "registry-error"


class BuildError(HoistError):
    """A build step failed. ``output_tail`` holds the last lines it printed."""

    code = "build-step-failed"

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        exit_status: int | None = None,
        output_tail: tuple[str, ...] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.line = line
        self.exit_status = exit_status
        self.output_tail = output_tail

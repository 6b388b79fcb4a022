"""The build-check rules: names, descriptions, doc URLs, and the ``# check=`` directive.

Rule names, descriptions, message formats and URLs are BuildKit's (its
``frontend/dockerfile/linter`` rule set), so a warning from hoist reads the
same as one from ``docker build --check``.
"""

from __future__ import annotations

import msgspec

from hoist.errors import DockerfileError
from hoist.models.source import SourceRange

_DOCS = "https://docs.docker.com/go/dockerfile/rule/"


class Rule(msgspec.Struct, frozen=True):
    """One build-check rule. ``fixable`` rules can be rewritten by ``hoist lint --fix``."""

    name: str
    description: str
    slug: str
    fixable: bool = False

    @property
    def url(self) -> str:
        return f"{_DOCS}{self.slug}/"


class LintWarning(msgspec.Struct, frozen=True):
    """One finding: the rule, its message, and where (``source`` is None when
    the finding is about the whole file)."""

    rule: Rule
    message: str
    source: SourceRange | None

    @property
    def line(self) -> int:
        return self.source.start if self.source is not None else 0

    def short(self) -> str:
        """BuildKit's short form: ``Rule: message (line N)``."""
        text = f"{self.rule.name}: {self.message}"
        return f"{text} (line {self.line})" if self.line > 0 else text


def _rule(name: str, description: str, slug: str, fixable: bool = False) -> Rule:
    return Rule(name, description, slug, fixable)


STAGE_NAME_CASING = _rule(
    "StageNameCasing", "Stage names should be lowercase", "stage-name-casing", True
)
FROM_AS_CASING = _rule(
    "FromAsCasing",
    "The 'as' keyword should match the case of the 'from' keyword",
    "from-as-casing",
    True,
)
NO_EMPTY_CONTINUATION = _rule(
    "NoEmptyContinuation",
    "Empty continuation lines will become errors in a future release",
    "no-empty-continuation",
    True,
)
CONSISTENT_INSTRUCTION_CASING = _rule(
    "ConsistentInstructionCasing",
    "All commands within the Dockerfile should use the same casing (either upper or lower)",
    "consistent-instruction-casing",
    True,
)
DUPLICATE_STAGE_NAME = _rule(
    "DuplicateStageName", "Stage names should be unique", "duplicate-stage-name"
)
RESERVED_STAGE_NAME = _rule(
    "ReservedStageName",
    "Reserved words should not be used as stage names",
    "reserved-stage-name",
)
JSON_ARGS_RECOMMENDED = _rule(
    "JSONArgsRecommended",
    "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to "
    "OS signals",
    "json-args-recommended",
    True,
)
MAINTAINER_DEPRECATED = _rule(
    "MaintainerDeprecated",
    "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
    "maintainer-deprecated",
)
UNDEFINED_ARG_IN_FROM = _rule(
    "UndefinedArgInFrom", "FROM command must use declared ARGs", "undefined-arg-in-from"
)
WORKDIR_RELATIVE_PATH = _rule(
    "WorkdirRelativePath",
    "Relative workdir without an absolute workdir declared within the build can have "
    "unexpected results if the base image changes",
    "workdir-relative-path",
)
UNDEFINED_VAR = _rule(
    "UndefinedVar", "Variables should be defined before their use", "undefined-var"
)
MULTIPLE_INSTRUCTIONS_DISALLOWED = _rule(
    "MultipleInstructionsDisallowed",
    "Multiple instructions of the same type should not be used in the same stage",
    "multiple-instructions-disallowed",
)
LEGACY_KEY_VALUE_FORMAT = _rule(
    "LegacyKeyValueFormat",
    "Legacy key/value format with whitespace separator should not be used",
    "legacy-key-value-format",
    True,
)
REDUNDANT_TARGET_PLATFORM = _rule(
    "RedundantTargetPlatform",
    "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the "
    "default behavior",
    "redundant-target-platform",
)
SECRETS_USED_IN_ARG_OR_ENV = _rule(
    "SecretsUsedInArgOrEnv",
    "Sensitive data should not be used in the ARG or ENV commands",
    "secrets-used-in-arg-or-env",
)
INVALID_DEFAULT_ARG_IN_FROM = _rule(
    "InvalidDefaultArgInFrom",
    "Default value for global ARG results in an empty or invalid base image name",
    "invalid-default-arg-in-from",
)
FROM_PLATFORM_FLAG_CONST_DISALLOWED = _rule(
    "FromPlatformFlagConstDisallowed",
    "FROM --platform flag should not use a constant value",
    "from-platform-flag-const-disallowed",
)
EXPOSE_PROTO_CASING = _rule(
    "ExposeProtoCasing",
    "Protocol in EXPOSE instruction should be lowercase",
    "expose-proto-casing",
    True,
)
EXPOSE_INVALID_FORMAT = _rule(
    "ExposeInvalidFormat",
    "IP address and host-port mapping should not be used in EXPOSE instruction. This will "
    "become an error in a future release",
    "expose-invalid-format",
)

RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        STAGE_NAME_CASING,
        FROM_AS_CASING,
        NO_EMPTY_CONTINUATION,
        CONSISTENT_INSTRUCTION_CASING,
        DUPLICATE_STAGE_NAME,
        RESERVED_STAGE_NAME,
        JSON_ARGS_RECOMMENDED,
        MAINTAINER_DEPRECATED,
        UNDEFINED_ARG_IN_FROM,
        WORKDIR_RELATIVE_PATH,
        UNDEFINED_VAR,
        MULTIPLE_INSTRUCTIONS_DISALLOWED,
        LEGACY_KEY_VALUE_FORMAT,
        REDUNDANT_TARGET_PLATFORM,
        SECRETS_USED_IN_ARG_OR_ENV,
        INVALID_DEFAULT_ARG_IN_FROM,
        FROM_PLATFORM_FLAG_CONST_DISALLOWED,
        EXPOSE_PROTO_CASING,
        EXPOSE_INVALID_FORMAT,
    )
}


class CheckConfig(msgspec.Struct, frozen=True):
    """What ``# check=skip=A,B;error=true`` (or ``--check`` options) asks for."""

    skip: frozenset[str] = frozenset()
    skip_all: bool = False
    error: bool = False

    def enabled(self, rule: Rule) -> bool:
        return not self.skip_all and rule.name not in self.skip


_TRUE = {"1", "t", "true", "TRUE", "True", "T"}
_FALSE = {"0", "f", "false", "FALSE", "False", "F"}


def parse_check_options(
    value: str, *, line: int | None = None, filename: str = "Dockerfile", source: str | None = None
) -> CheckConfig:
    """Parse the value of a ``# check=`` directive like BuildKit's linter.

    ``skip=all`` skips every rule; ``skip=A,B`` the named ones (unknown names
    are ignored, as BuildKit does); ``error=true`` makes warnings fail the
    build. At most two ``;``-separated parts are read.

    Raises:
        DockerfileError: a part is not ``key=value``, the key is unknown, or
            ``error`` is not a Go boolean (code ``invalid-check-directive``).
    """
    try:
        return _parse_options(value.strip())
    except _BadOption as exc:
        raise DockerfileError(
            f"parsing check directive: {exc}",
            line=line,
            filename=filename,
            source=source,
            code="invalid-check-directive",
            hint="write it as: # check=skip=Rule1,Rule2;error=true",
        ) from None


class _BadOption(ValueError):
    """Internal: one ``# check=`` option is malformed (becomes a DockerfileError)."""


def _parse_options(value: str) -> CheckConfig:
    config = CheckConfig()
    if not value:
        return config
    for part in value.split(";", 1):
        key, sep, raw = part.partition("=")
        if not sep:
            raise _BadOption(f"invalid check option {part!r}")
        config = _apply_option(config, key.strip(), raw.strip(), part)
    return config


def _apply_option(config: CheckConfig, key: str, raw: str, part: str) -> CheckConfig:
    if key == "skip":
        if raw == "all":
            return CheckConfig(config.skip, True, config.error)
        names = frozenset(name.strip() for name in raw.split(","))
        return CheckConfig(names, config.skip_all, config.error)
    if key == "error":
        if raw not in _TRUE | _FALSE:
            raise _BadOption(f"failed to parse check option {part!r}: invalid syntax")
        return CheckConfig(config.skip, config.skip_all, raw in _TRUE)
    raise _BadOption(f"invalid check option {key!r}")

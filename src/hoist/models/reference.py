"""Image references normalised the way Docker does it.

``busybox`` → ``docker.io/library/busybox:latest``; ``localhost:5000/a/b@sha256:…``
keeps its registry and digest. The grammar is the one of the distribution
``reference`` package: a domain is the first component when it holds a ``.``
or a ``:`` or is ``localhost``; path components are lower-case alphanumerics
joined by ``.``, ``_``, ``__`` or runs of ``-``; a tag is ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``.
"""

from __future__ import annotations

import re

import msgspec

from hoist.errors import InvalidDigest, InvalidReference
from hoist.models.digest import Digest

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX = 255

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_HEX64 = re.compile(r"[a-f0-9]{64}")


class Reference(msgspec.Struct, frozen=True):
    """A fully normalised reference: domain, path, and a tag and/or a digest."""

    domain: str
    path: str
    tag: str | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse and normalise; a reference without tag or digest gets ``latest``."""
        ref = parse_loose(text)
        if ref.tag is None and ref.digest is None:
            return cls(ref.domain, ref.path, DEFAULT_TAG, None)
        return ref

    @property
    def name(self) -> str:
        """``docker.io/library/busybox``: the repository without tag or digest."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """``busybox`` for ``docker.io/library/busybox``, as docker prints it."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        if self.path.startswith(OFFICIAL_PREFIX) and self.path.count("/") == 1:
            return self.path[len(OFFICIAL_PREFIX) :]
        return self.path

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def familiar(self) -> str:
        """``busybox:latest`` — the short form ``docker images`` shows."""
        text = self.familiar_name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def with_tag(self, tag: str) -> Reference:
        if not _TAG.fullmatch(tag):
            raise InvalidReference(f"invalid tag {tag!r}")
        return Reference(self.domain, self.path, tag, None)


def parse_loose(text: str) -> Reference:
    """Parse without adding the default tag (``busybox`` stays tagless)."""
    if not text or text != text.strip():
        raise InvalidReference(f"invalid reference format: {text!r}")
    remainder, digest = _split_digest(text)
    remainder, tag = _split_tag(remainder, text)
    domain, path = _split_domain(remainder)
    _check_path(path, text)
    if len(domain) + 1 + len(path) > NAME_MAX:
        raise InvalidReference(f"invalid reference {text[:80]!r}: repository name too long")
    return Reference(domain, path, tag, digest)


def _split_digest(text: str) -> tuple[str, Digest | None]:
    name, sep, digest_text = text.partition("@")
    if not sep:
        return text, None
    try:
        return name, Digest.parse(digest_text)
    except InvalidDigest as exc:
        raise InvalidReference(f"invalid reference {text[:80]!r}: {exc}") from exc


def _split_tag(name: str, text: str) -> tuple[str, str | None]:
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon <= slash:
        return name, None
    tag = name[colon + 1 :]
    if not _TAG.fullmatch(tag):
        raise InvalidReference(f"invalid reference format: invalid tag in {text[:80]!r}")
    return name[:colon], tag


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        if not _DOMAIN.fullmatch(first):
            raise InvalidReference(f"invalid reference format: invalid registry {first!r}")
        domain = DEFAULT_DOMAIN if first == LEGACY_DOMAIN else first
        path = rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_PREFIX + path
    return domain, path


def _check_path(path: str, text: str) -> None:
    components = path.split("/")
    for component in components:
        if not _COMPONENT.fullmatch(component):
            if component.lower() != component and _COMPONENT.fullmatch(component.lower()):
                raise InvalidReference(
                    f"invalid reference format: repository name {text!r} must be lowercase"
                )
            raise InvalidReference(f"invalid reference format: {text[:80]!r}")
    bare = components[-1]
    if len(components) == 2 and path.startswith(OFFICIAL_PREFIX) and _HEX64.fullmatch(bare):
        raise InvalidReference(
            f"invalid repository name {text[:80]!r}: cannot be a 64-character hex string"
        )

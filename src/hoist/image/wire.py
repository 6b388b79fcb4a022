"""JSON in and out for the image model: strict parsing, canonical writing.

Everything parsed here comes from an image, an archive or a registry and is
attacker input (SECURITY.md rule 9): types are checked, digests parsed strictly,
sizes bounded, and every problem becomes :class:`InvalidImageData`.
"""

from __future__ import annotations

import json
from typing import Any

from hoist.errors import InvalidDigest, UserInputError
from hoist.models.digest import Digest

MAX_JSON_BYTES = 8 * 1024 * 1024  # manifests and configs; docker's limit for configs is 8 MiB


class InvalidImageData(UserInputError):
    """A manifest, index or config that is not valid JSON of the right shape."""

    code = "invalid-image-data"


def load_json(data: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object.

    Raises:
        InvalidImageData: too large, not JSON, or not an object.
    """
    if len(data) > MAX_JSON_BYTES:
        raise InvalidImageData(
            f"reading {what}: {len(data)} bytes is over the {MAX_JSON_BYTES} limit"
        )
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidImageData(f"reading {what}: not valid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise InvalidImageData(f"reading {what}: expected a JSON object")
    return obj


def canonical_json(obj: Any) -> bytes:
    """Compact JSON with sorted keys: the same value always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def get_str(obj: dict[str, Any], key: str, what: str, default: str = "") -> str:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidImageData(f"reading {what}: {key!r} must be a string")
    return value


def get_int(obj: dict[str, Any], key: str, what: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidImageData(f"reading {what}: {key!r} must be a non-negative integer")
    return value


def get_list(obj: dict[str, Any], key: str, what: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidImageData(f"reading {what}: {key!r} must be a list")
    return value


def get_str_list(obj: dict[str, Any], key: str, what: str) -> tuple[str, ...] | None:
    """A list of strings, or None when the key is absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):  # docker accepts a bare string for Cmd/Entrypoint/Shell
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidImageData(f"reading {what}: {key!r} must be a list of strings")
    return tuple(value)


def get_dict(obj: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidImageData(f"reading {what}: {key!r} must be an object")
    return value


def get_str_dict(obj: dict[str, Any], key: str, what: str) -> dict[str, str]:
    value = get_dict(obj, key, what)
    if not all(isinstance(v, str) for v in value.values()):
        raise InvalidImageData(f"reading {what}: {key!r} must map strings to strings")
    return dict(value)


def parse_digest(value: Any, what: str) -> Digest:
    """Parse a digest strictly (SECURITY.md F3), before it is used anywhere.

    Raises:
        InvalidImageData: not a string or not a valid sha256/sha512 digest.
    """
    if not isinstance(value, str):
        raise InvalidImageData(f"reading {what}: digest must be a string")
    try:
        return Digest.parse(value)
    except InvalidDigest as exc:
        raise InvalidImageData(f"reading {what}: {exc}") from exc

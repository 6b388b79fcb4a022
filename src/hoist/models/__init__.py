"""Small frozen values shared by every phase. Imports no other hoist package."""

from hoist.models.digest import Digest, sha256_of
from hoist.models.platform import Platform
from hoist.models.reference import Reference
from hoist.models.source import SourceRange

__all__ = ["Digest", "Platform", "Reference", "SourceRange", "sha256_of"]

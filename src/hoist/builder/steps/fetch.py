"""Downloading ``ADD <url>`` sources (http and https only), within limits.

Rules (moby's remote ADD, SECURITY.md C1):

* only ``http`` and ``https`` URLs, and redirects only to those, at most
  :attr:`FetchLimits.max_redirects` of them (a redirect to ``file:``,
  ``ftp:`` … is an error, as is a redirect loop);
* the file name is the last segment of the **original** URL's path
  (percent-decoded), ``index.html`` when that is empty, ``.`` or ``..``;
  ``Content-Disposition`` is never looked at;
* size and time are bounded (total bytes, and a wall-clock deadline besides
  the per-read socket timeout, so a trickling server cannot hold a build);
* ``Last-Modified`` gives the file's mtime when present and parseable;
* no credentials are ever attached (no auth handler, no cookie jar).

The body is streamed into a caller-owned file object while its sha256 is
computed; the executor uses the digest in the step's cache key (Docker
downloads again on every build to find out whether the content changed).

Every build with an ADD or COPY imports this module (:func:`is_url`), few
download anything: ``urllib.request`` and ``email`` (http, ssl, sockets) are
imported by :func:`fetch_url` only.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import time
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import unquote, urlsplit

import msgspec

if TYPE_CHECKING:
    import urllib.request

from hoist.errors import UserInputError

__all__ = ["FetchError", "FetchLimits", "FetchResult", "fetch_url", "is_url", "url_file_name"]

_SCHEMES = ("http", "https")
_CHUNK = 1 << 16


class FetchError(UserInputError):
    """Downloading an ADD source failed or broke a rule (scheme, size, time, checksum)."""

    code = "fetch-failed"


class FetchLimits(msgspec.Struct, frozen=True):
    """Bounds of one download."""

    max_bytes: int = 8 << 30
    timeout: float = 30.0
    deadline: float = 600.0
    max_redirects: int = 10


class FetchResult(msgspec.Struct, frozen=True):
    """A finished download: content digest (hex sha256), size, mtime and file name."""

    sha256: str
    size: int
    mtime_ns: int | None
    name: str


def is_url(source: str) -> bool:
    """Whether an ADD source is a URL (``scheme://…``) rather than a context path."""
    return "://" in source and bool(urlsplit(source).scheme)


def url_file_name(url: str) -> str:
    """The destination name for a URL: its path's last segment, or ``index.html``."""
    name = posixpath.basename(unquote(urlsplit(url).path))
    if name in ("", ".", "..") or "\x00" in name:
        return "index.html"
    return name


def _redirects(limit: int) -> urllib.request.HTTPRedirectHandler:
    """A handler of redirects only to http(s), at most ``limit`` of them."""
    import urllib.request

    class Redirects(urllib.request.HTTPRedirectHandler):
        max_redirections = limit
        max_repeats = limit

        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            scheme = urlsplit(newurl).scheme.lower()
            if scheme not in _SCHEMES:
                raise FetchError(f"fetching {req.full_url}: refusing redirect to {newurl!r}")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return Redirects()


def fetch_url(
    url: str, out: BinaryIO, limits: FetchLimits | None = None, *, checksum: str | None = None
) -> FetchResult:
    """Download ``url`` into ``out`` (written from its current position).

    ``checksum`` (``sha256:<hex>``, from ``ADD --checksum``) is verified
    after the download; the caller must discard ``out`` on any error.

    Raises:
        FetchError: a bad scheme or redirect, an HTTP error status, a network
            error, a size or time limit, or a checksum mismatch.
    """
    import urllib.error
    import urllib.request

    limits = limits or FetchLimits()
    if urlsplit(url).scheme.lower() not in _SCHEMES:
        raise FetchError(f"fetching {url}: only http and https URLs are supported")
    opener = urllib.request.build_opener(_redirects(limits.max_redirects))
    request = urllib.request.Request(url, headers={"User-Agent": "hoist"})
    try:
        with opener.open(request, timeout=limits.timeout) as response:
            digest, size = _stream(url, response, out, limits)
            mtime = _last_modified(response.headers.get("Last-Modified"))
    except urllib.error.HTTPError as exc:
        raise FetchError(f"fetching {url}: HTTP status {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise FetchError(f"fetching {url}: {exc.reason}") from exc
    except (OSError, ValueError) as exc:
        raise FetchError(f"fetching {url}: {exc}") from exc
    if checksum is not None:
        _verify(url, checksum, digest)
    return FetchResult(digest, size, mtime, url_file_name(url))


def _stream(url: str, response: BinaryIO, out: BinaryIO, limits: FetchLimits) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    end = time.monotonic() + limits.deadline
    # read1: what has arrived, so the deadline is checked even when a server trickles.
    read = getattr(response, "read1", response.read)
    while chunk := read(_CHUNK):
        size += len(chunk)
        if size > limits.max_bytes:
            raise FetchError(f"fetching {url}: larger than the limit of {limits.max_bytes} bytes")
        if time.monotonic() > end:
            raise FetchError(f"fetching {url}: took longer than {limits.deadline:g} s")
        h.update(chunk)
        out.write(chunk)
    out.flush()
    return h.hexdigest(), size


def _last_modified(value: str | None) -> int | None:
    import email.utils

    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return int(when.timestamp()) * 1_000_000_000


def _verify(url: str, checksum: str, digest: str) -> None:
    algo, _, expected = checksum.partition(":")
    if algo != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise FetchError(f"verifying {url}: unsupported checksum {checksum!r} (want sha256:<hex>)")
    if expected != digest:
        raise FetchError(
            f"verifying {url}: checksum mismatch: expected {checksum}, got sha256:{digest}"
        )

"""A scripted HTTP server on 127.0.0.1 for ADD <url> tests (run in a thread)."""

from __future__ import annotations

import io
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
LAST_MODIFIED_EPOCH = 1445412480


def tar_gz_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("inside.txt")
        data = b"from the archive"
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        path = self.path
        if path.startswith("/loop/"):
            self._redirect(f"/loop/{int(path.rsplit('/', 1)[1]) + 1}")
        elif path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            self._redirect(f"/hop/{n - 1}" if n > 0 else "/dir/file.txt")
        elif path in REDIRECTS:
            self._redirect(REDIRECTS[path])
        elif path == "/huge":
            self._stream(b"\0" * 65536, forever=True, delay=0)
        elif path == "/slow":
            self._stream(b"x", forever=True, delay=0.05)
        elif path in BODIES:
            self._send(BODIES[path], extra=HEADERS.get(path, {}))
        else:
            self.send_error(404)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, body: bytes, extra: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, chunk: bytes, *, forever: bool, delay: float) -> None:
        self.send_response(200)
        self.end_headers()
        try:
            while forever:
                self.wfile.write(chunk)
                self.wfile.flush()
                if delay:
                    time.sleep(delay)
        except OSError:
            pass  # the client gave up: expected


BODIES: dict[str, bytes] = {
    "/dir/file.txt": b"hello from http\n",
    "/": b"<html>index</html>",
    "/cd": b"disposition body",
    "/a.tar.gz": tar_gz_bytes(),
    "/%2e%2e": b"dotdot",
    "/repo.git": b"not a repo",
}
HEADERS = {
    "/dir/file.txt": {"Last-Modified": LAST_MODIFIED},
    "/cd": {"Content-Disposition": "attachment; filename=../../etc/passwd"},
}
REDIRECTS = {
    "/to-file": "file:///etc/passwd",
    "/to-ftp": "ftp://127.0.0.1/x",
    "/to-ok": "/dir/file.txt",
}


@contextmanager
def serve() -> Iterator[str]:
    """Run the server; yield its base URL (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

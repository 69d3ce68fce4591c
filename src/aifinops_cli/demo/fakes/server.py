"""A loopback HTTP server for the fakes of cloud APIs (tests, benches, the demo).

Each fake (demo/fakes/gcp.py, demo/fakes/k8s.py) decides what a request gets, from its
method, path and query (a form-encoded POST body is merged into the query, as Prometheus
clients send it); this module only serves JSON on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class QuietHTTPServer(ThreadingHTTPServer):
    """A client that hangs up before its answer is written (a scan's read timeout or deadline
    abandoning the call, as the isolation tests provoke) is no error of the far end: plain
    socketserver prints its traceback into the process's stderr, where the scan's output is."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], name: str) -> Iterator[str]:
    """Run `handler` on a loopback port in a daemon thread until the block ends; yields the
    base URL (every fake's server: these, the tests' price APIs)."""
    server = QuietHTTPServer(("127.0.0.1", 0), handler)
    # shutdown() waits for the serve loop's next poll: 0.5 s by default, on every fake's exit
    threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# (method, path, query) -> (HTTP status, a JSON document or raw bytes)
Answer = Callable[[str, str, dict[str, list[str]]], tuple[int, Any]]


@contextmanager
def serve(
    answer: Answer, name: str, content_type: str = "application/json", keep_alive: bool = False
) -> Iterator[str]:
    """Serve `answer` until the block ends; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _answer(self) -> None:
            parsed = urlparse(self.path)
            query = parse_qs(parsed.query)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                body = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    query.update(parse_qs(body))
            status, payload = answer(self.command, parsed.path, query)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _answer

    with serving(Handler, name) as url:
        yield url

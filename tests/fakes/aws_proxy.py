"""The far end of the wire for AWS: a moto server behind a small recording proxy on loopback.

The proxy forwards every request to moto unchanged, records (service, region, operation), and can
answer some requests itself the way AWS does when it refuses: AccessDenied for one region,
ExpiredToken, or throttling for the first N calls of an operation. It can also fail the way a
network or a middlebox does (`Fault.kind`): a 200 answer that is not XML/JSON, a 500 with an HTML
page, a request left unanswered (until `release` is set or `hang_seconds` pass), or a connection
reset. Tests and `bench/aws_scan.py` point botocore at it with AWS_ENDPOINT_URL, exactly as a user
would point it at any endpoint.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from moto.server import ThreadedMotoServer

from aifinops_cli.demo.fakes.aws_extra import install as install_moto_extras
from aifinops_cli.demo.fakes.server import QuietHTTPServer

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_CBOR_OP = re.compile(r"/service/[^/]+/operation/([A-Za-z]+)")


@dataclass
class Fault:
    """Answer matching requests with an AWS error (or a network failure) instead of forwarding them."""

    code: str = ""
    status: int = 403
    region: str | None = None
    operation: str | None = None
    times: int | None = None  # None: always
    kind: str = "error"  # error | garbage | html500 | hang | reset
    hang_seconds: float = 60.0
    service: str | None = None  # the signing name: ec2, monitoring, sts, ...
    ended: int = 0  # requests this hang fault has let go (a scan that waited for one sees 1+)

    def matches(self, region: str, operation: str, service: str = "") -> bool:
        return (
            (self.region in (None, region))
            and (self.operation in (None, operation))
            and (self.service in (None, service))
            and (self.times is None or self.times > 0)
        )


@dataclass
class Recorder:
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    upstream: list[tuple[float, float]] = field(default_factory=list)  # moto busy intervals
    busy_by_op: Counter[str] = field(default_factory=Counter)  # seconds moto spent, per operation
    faults: list[Fault] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)  # ends every hang at once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def operations(self) -> Counter[str]:
        return Counter(op for _, _, op in self.calls)

    def upstream_seconds(self) -> float:
        """Wall time during which moto was answering at least one request (interval union)."""
        total, end = 0.0, float("-inf")
        for start, stop in sorted(self.upstream):
            if stop > end:
                total += stop - max(start, end)
                end = stop
        return total


def _operation(path: str, headers: dict[str, str], body: bytes) -> str:
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    m = _CBOR_OP.search(path)
    if m:
        return m.group(1)
    if body and b"Action=" in body:
        return parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
    if "Action=" in path:
        return parse_qs(path.split("?", 1)[1]).get("Action", ["?"])[0]
    return f"{headers.get(':method', '')}{path.split('?')[0]}"


def _error_body(code: str, service: str) -> tuple[bytes, str]:
    if service in ("monitoring", "bedrock"):  # JSON protocols: CloudWatch here, Bedrock (restJson1)
        body = json.dumps({"__type": code, "message": f"{code} (injected by the test proxy)"})
        return body.encode(), "application/x-amz-json-1.0"
    if service in ("ec2",):
        xml = (
            f"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error><Code>{code}</Code>"
            f"<Message>{code} (injected by the test proxy)</Message></Error></Errors>"
            "<RequestID>test</RequestID></Response>"
        )
        return xml.encode(), "text/xml"
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{code} (injected by the test proxy)</Message></Error>"
        "<RequestId>test</RequestId></ErrorResponse>"
    )
    return xml.encode(), "text/xml"


class AwsFarEnd:
    """Start moto + proxy; `url` is what AWS_ENDPOINT_URL should be."""

    def __init__(self) -> None:
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.recorder = Recorder()
        self.proxy: ThreadingHTTPServer | None = None

    def __enter__(self) -> AwsFarEnd:
        install_moto_extras()  # the Bedrock operations moto lacks (demo/fakes/aws_extra.py)
        self.moto.start()
        moto_host, moto_port = self.moto.get_host_and_port()
        recorder = self.recorder

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                scope = _SCOPE.search(headers.get("authorization", ""))
                region, service = (scope.group(1), scope.group(2)) if scope else ("", "")
                op = _operation(self.path, headers, body)
                fault = None
                with recorder.lock:
                    recorder.calls.append((service, region, op))
                    for f in recorder.faults:
                        if f.matches(region, op, service):
                            if f.times is not None:
                                f.times -= 1
                            fault = f
                            break
                if fault is not None and fault.kind != "error":
                    self._misbehave(fault)
                    return
                if fault is not None:
                    payload, ctype = _error_body(fault.code, service)
                    self.send_response(fault.status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                began = time.perf_counter()
                conn = http.client.HTTPConnection(moto_host, moto_port, timeout=300)
                forward = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                forward["Host"] = f"{moto_host}:{moto_port}"
                conn.request(self.command, self.path, body=body, headers=forward)
                resp = conn.getresponse()
                data = resp.read()
                with recorder.lock:
                    recorder.upstream.append((began, time.perf_counter()))
                    recorder.busy_by_op[op] += recorder.upstream[-1][1] - began
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            def _misbehave(self, fault: Fault) -> None:
                if fault.kind == "hang":  # accept the request, never answer, then hang up
                    recorder.release.wait(fault.hang_seconds)
                    with recorder.lock:
                        fault.ended += 1
                    self.close_connection = True
                    return
                if fault.kind == "reset":  # RST instead of an answer
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault.kind == "garbage":  # a captive portal or proxy answering in AWS's place
                    status, payload = 200, b"Service temporarily unavailable; please retry\n\x00\xff"
                elif fault.kind == "html500":
                    status, payload = 500, b"<html><body><h1>500 Internal Server Error</h1></body></html>"
                else:
                    raise ValueError(f"unknown fault kind {fault.kind!r}")
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def finish(self) -> None:
                with contextlib.suppress(OSError):  # the socket was reset on purpose
                    super().finish()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.proxy = QuietHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.proxy.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.proxy is not None
        return f"http://127.0.0.1:{self.proxy.server_address[1]}"

    @property
    def moto_url(self) -> str:
        host, port = self.moto.get_host_and_port()
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self.recorder.release.set()
        if self.proxy is not None:
            self.proxy.shutdown()
            self.proxy.server_close()
        self.moto.stop()

"""The ARM emulator: the simulated Azure service behind an HTTPS Azure Resource Manager endpoint on loopback.

The Azure provider (the real `azure-mgmt-resource` SDK) talks to it exactly as it talks to
management.azure.com, so every byte it sends crosses a real TLS socket. The rules live in
`arm_surface.ArmSurface` (ARM's REST conventions) and `simulated.SimulatedAzure` (what the services
accept, the same core the local provider uses); this module only serves them.

    with ArmEmulator(EmulatorSettings(state_dir=tmp)) as emulator:
        emulator.endpoint   # https://127.0.0.1:PORT
        emulator.ca_file    # the CA a client must trust
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..simulated.service import SimulatedAzure
from .arm_surface import ArmSurface, Request, Response
from .directory import DEFAULT_SUBSCRIPTION
from .faults import FaultPlan
from .resource_groups import GROUPS_FILE, ResourceGroups
from .tls import ensure_certificates

DB_FILE = "emulator-cloud.db"
LOOPBACK = "127.0.0.1"

RequestLog = Callable[[str, str, int], None]
"""Called as log(method, path, status) after each answered request."""


@dataclass(frozen=True)
class EmulatorSettings:
    """How the emulator runs. `port` 0 picks a free port."""

    state_dir: Path
    host: str = LOOPBACK
    port: int = 0
    auto_resource_groups: bool = True
    # Seconds a long-running operation takes (on the service's clock), however often anyone polls it.
    operation_seconds: float = 1.0
    # Retry-After (whole seconds) on 201/202 answers and InProgress polls; None leaves the client's
    # own polling interval.
    operation_retry_after: int | None = None
    # Simulated time each write takes inside the service, in seconds.
    latency: float = 0.0
    seed: int = 0
    # Real seconds one simulated build minute takes (None: the simulated service's default).
    build_minute: float | None = None
    # Items per page of a list answer (more are behind a nextLink).
    page_size: int = 100
    # Subscriptions `GET /subscriptions` lists besides those holding a resource group.
    subscriptions: tuple[str, ...] = (DEFAULT_SUBSCRIPTION,)


class ArmEmulator:
    """Serves one SimulatedAzure over HTTPS from a background thread."""

    def __init__(
        self,
        settings: EmulatorSettings,
        *,
        server_certificate: Path | None = None,
        ca_file: Path | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        """`server_certificate` is one PEM file with the certificate chain and key; without it the
        emulator makes (or reuses) its own under `state_dir/tls/`."""
        self.settings = settings
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        if server_certificate is None:
            paths = ensure_certificates(settings.state_dir / "tls")
            server_certificate, ca_file = paths.server_file, paths.ca_file
        self.ca_file = ca_file
        self.service = SimulatedAzure(
            settings.state_dir / DB_FILE, latency=settings.latency, build_minute=settings.build_minute
        )
        self.faults = FaultPlan(seed=settings.seed)
        self.surface = ArmSurface(
            self.service,
            ResourceGroups(settings.state_dir / GROUPS_FILE, auto_create=settings.auto_resource_groups),
            faults=self.faults,
            operation_seconds=settings.operation_seconds,
            operation_retry_after=settings.operation_retry_after,
            page_size=settings.page_size,
            subscriptions=settings.subscriptions,
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(server_certificate))
        self._server = _Server((settings.host, settings.port), _Handler)
        self._server.socket = context.wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server.surface = self.surface
        self._server.request_log = request_log
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        host = self.settings.host
        return f"https://[{host}]:{self.port}" if ":" in host else f"https://{host}:{self.port}"

    def start(self) -> ArmEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="arm-emulator"
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop` is called from another one (or Ctrl-C)."""
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.service.close()

    def __enter__(self) -> ArmEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    surface: ArmSurface
    request_log: RequestLog | None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "aibplan-arm-emulator"

    def setup(self) -> None:
        self.request.settimeout(30)
        # Headers and body go out in two writes; without this, Nagle + delayed ACK cost ~40 ms each.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
        super().setup()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ssl.SSLError, ConnectionError, TimeoutError):
            self.close_connection = True

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            response = self.server.surface.handle(request)
        except Exception as exc:  # a bug in the emulator: answer as ARM would, keep serving
            response = Response(
                500, {"error": {"code": "InternalServerError", "message": f"emulator error: {exc!r}"}}
            )
        self._send(response)
        log = self.server.request_log
        if log is not None:
            log(self.command, self.path, response.status)

    def _send(self, response: Response) -> None:
        if response.drop:
            # A reset, not a clean close: the client sees its answer lost mid-request.
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("x-ms-request-id", self.headers.get("x-ms-client-request-id", "-"))
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log callback reports requests."""

"""HTTP: the request handler, the threading server and ``MarquezContractServer``."""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import socket
import threading
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .model import java_json, jsonb_text, marquez_api_view
from .served import update_facet
from .storage import MarquezState, RecordedRequest, Reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MarquezContractServer/0.51"
    timeout = 30
    server: _HTTPServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests instead
        return

    def _handle(self) -> None:
        state = self.server.state
        try:
            body = self._read_body()
        except (ValueError, OSError, EOFError, zlib.error):
            self._send(Reply.error(400, "Unable to read the request body"))
            return
        reply = self._route(state, body)
        with state.lock:
            state.requests.append(
                RecordedRequest(self.command, self.path, dict(self.headers.items()), body, reply.status)
            )
        self._send(reply)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        return body

    def _route(self, state: MarquezState, body: bytes) -> Reply:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        with state.lock:
            if state.failures_left > 0:
                state.failures_left -= 1
                return Reply.error(state.failure_status)
            token = state.token
        if token is not None and not self._authorized(token):
            return Reply(
                401,
                java_json({"code": 401, "message": "Credentials are required to access this resource."}).encode(),
                (("Content-Type", "application/json"), ("WWW-Authenticate", 'Bearer realm="marquez"')),
            )
        job_path = re.fullmatch(r"/api/v1/namespaces/([^/]+)/jobs/([^/]+)", path)
        run_facets_path = re.fullmatch(r"/api/v1/jobs/runs/([^/]+)/facets", path)
        routes: dict[str, Callable[[], Reply]] = {}
        if path == "/api/v1/lineage":
            routes = {
                "POST": lambda: state.record_lineage(body, self.headers.get("Content-Type")),
                "GET": lambda: state.get_lineage(query),
            }
        elif path == "/api/v1/events/lineage":
            routes = {"GET": lambda: state.list_events(query)}
        elif run_facets_path:
            routes = {"GET": lambda: state.get_run_facets(unquote(run_facets_path[1]), query)}
        elif job_path:
            routes = {"GET": lambda: state.get_job(unquote(job_path[1]), unquote(job_path[2]))}
        if not routes:
            return Reply.error(404)
        handler = routes.get(self.command)
        return handler() if handler else Reply.error(405)

    def _authorized(self, token: str) -> bool:
        scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and credentials.strip() == token

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body:
            self.wfile.write(reply.body)


class _HTTPServer(ThreadingHTTPServer):
    """Tracks open connections so that "down" can cut keep-alive clients off, as a crash would."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: MarquezState) -> None:
        self.state = state
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self.connections_lock:
            open_connections = list(self.connections)
            self.connections.clear()
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


class MarquezContractServer:
    """A Marquez stand-in on 127.0.0.1, served from a background thread.

    Use as a context manager (``with MarquezContractServer() as marquez: ...``) or call ``start()`` /
    ``stop()``. ``token`` (settable at any time) requires ``Authorization: Bearer <token>``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> None:
        self._state = MarquezState(token)
        self._host = host
        self._port = port
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._down = False

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> MarquezContractServer:
        self._server = _HTTPServer((self._host, self._port), self._state)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="marquez-contract", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> MarquezContractServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- what tests use -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123`` (the OpenLineage client appends ``/api/v1/lineage``)."""
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    @property
    def token(self) -> str | None:
        return self._state.token

    @token.setter
    def token(self, value: str | None) -> None:
        with self._state.lock:
            self._state.token = value

    @property
    def events(self) -> list[dict[str, Any]]:
        """Stored run events in arrival order, each exactly as ``GET /api/v1/events/lineage`` prints it."""
        with self._state.lock:
            texts = [row.jsonb for row in self._state.rows if row.kind == "RUN_EVENT"]
        return [marquez_api_view(text) for text in texts]

    @property
    def stored(self) -> list[str]:
        """The jsonb text of every stored row (run, dataset and job events), in arrival order."""
        with self._state.lock:
            return [row.jsonb for row in self._state.rows]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next ``n`` requests with ``status`` (Dropwizard error body); nothing is stored."""
        with self._state.lock:
            self._state.failures_left = n
            self._state.failure_status = status

    def set_down(self, down: bool) -> None:
        """Down: the listening socket and open connections are closed (clients get connection refused).
        Up: listen again on the same port; stored events survive, as in Marquez's database."""
        if down == self._down:
            return
        self._down = down
        if down:
            self.stop()
        else:
            self.start()

    def delete_event(self, index: int) -> None:
        """Delete the ``index``-th run event (as in ``.events``), like ``DELETE FROM lineage_events``."""
        with self._state.lock:
            run_rows = [row for row in self._state.rows if row.kind == "RUN_EVENT"]
            self._state.rows.remove(run_rows[index])

    def replace_event(self, index: int, event: dict[str, Any]) -> None:
        """Overwrite the jsonb of the ``index``-th run event, like an ``UPDATE`` by someone with DB access.
        The ``event_time`` column is left as it was."""
        with self._state.lock:
            run_rows = [row for row in self._state.rows if row.kind == "RUN_EVENT"]
            run_rows[index].jsonb = jsonb_text(event)

    def update_facet(self, run_id: str, name: str, facet: Any, *, part: str = "run") -> int:
        """Overwrite facet ``name`` of a run in the derived ``run_facets`` (``part="job"``: ``job_facets``) table,
        what the UI and read API serve, like an ``UPDATE`` by someone with DB access; the raw events stay as they
        were.  Returns the number of rows changed."""
        with self._state.lock:
            return update_facet(self._state.facets, part, run_id, name, facet)

    def reset(self) -> None:
        """Forget stored events, recorded requests and pending failures (the token is kept)."""
        with self._state.lock:
            self._state.rows.clear()
            self._state.requests.clear()
            self._state.runs.clear()
            self._state.facets.clear()
            self._state.failures_left = 0

    def post(self, event: dict[str, Any] | str | bytes) -> int:
        """Convenience for tests: POST one event with the standard library and return the status code."""
        import urllib.error
        import urllib.request

        body = event if isinstance(event, bytes) else (event if isinstance(event, str) else json.dumps(event))
        data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(f"{self.url}/api/v1/lineage", data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

"""HTTP plumbing shared by the test servers: a threaded loopback server that starts and stops cleanly,
request recording, chunked streaming, and the timing/fault script of ModelBehaviour."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from .scripts import ModelBehaviour, RecordedRequest, ReplyPlan

JOIN_TIMEOUT_S = 2.0


class ClientGone(Exception):
    """The client closed the connection while we were writing."""


class EndConnection(Exception):
    """The script (a cut stream) or the server's stop ends this connection abruptly."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # TestServer joins the connection threads itself, with a timeout
    allow_reuse_address = False

    def __init__(self, address, handler_class, owner: TestServer) -> None:
        self.owner = owner
        super().__init__(address, handler_class)

    def process_request(self, request, client_address) -> None:
        # Register the connection before its thread starts, so stop() always sees it.
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), daemon=True, name="test-server-conn"
        )
        with self.owner._lock:
            self.owner._connections[request] = thread
        thread.start()

    def _serve_connection(self, request, client_address) -> None:
        try:
            with contextlib.suppress(Exception):  # a broken test connection must not print tracebacks
                self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)
            with self.owner._lock:
                self.owner._connections.pop(request, None)

    def handle_error(self, request, client_address) -> None:
        pass


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked streams so a cut is visible to the client
    server_version = "TestServer/1.0"
    sys_version = ""
    routes: ClassVar[Mapping[tuple[str, str], str]] = {}  # (method, path) -> method name

    server: _HTTPServer
    body: Any = None
    body_ok: bool = True  # False when a body was sent but is not valid JSON
    model_name: str | None = None  # set by generation routes, for client_disconnects
    responded: bool = False

    # -- dispatch ---------------------------------------------------------------------------------------

    @property
    def owner(self) -> TestServer:
        return self.server.owner

    def setup(self) -> None:
        super().setup()
        # Small writes must leave at once: Nagle + delayed ACKs would add ~40 ms per streamed piece.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        self.body, self.body_ok = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.owner._record(RecordedRequest(self.command, path, headers, self.body))
        method = "GET" if self.command == "HEAD" else self.command
        name = self.routes.get((method, path))
        self.responded = False
        try:
            if name is None:
                self.unknown_route(method, path)
            elif self.check_access(path):
                getattr(self, name)()
            if not self.responded:  # a route that forgot to answer must not leave the client waiting
                self.send_bytes(500, b"test server: the route sent no response", "text/plain")
        except ClientGone:
            self.close_connection = True
            self.owner._record_disconnect(self.model_name or path)
        except EndConnection:
            self.drop_connection()
        except Exception as exc:  # noqa: BLE001 - e.g. a failing reply_fn: report it to the client and the test
            self.owner._record_error(exc)
            if self.responded:
                self.drop_connection()
            else:
                message = f"test server error: {type(exc).__name__}: {exc}".encode()
                with contextlib.suppress(ClientGone, EndConnection):
                    self.send_bytes(500, message, "text/plain; charset=utf-8")
        if self.owner._stopping.is_set():
            self.close_connection = True

    def check_access(self, path: str) -> bool:
        """Answer 401 and return False when the request may not proceed (see the servers' api_key)."""
        return True

    def unknown_route(self, method: str, path: str) -> None:
        known = {p for _, p in self.routes}
        if path in known:
            self.send_bytes(405, b"405 method not allowed", "text/plain")
        else:
            self.send_bytes(404, b"404 page not found", "text/plain")

    def _read_body(self) -> tuple[Any, bool]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                raw += self.rfile.read(size)
                self.rfile.readline()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
        if not raw:
            return None, True
        text = raw.decode("utf-8", errors="replace")
        try:
            return json.loads(text), True
        except ValueError:
            return text, False

    def json_body(self) -> dict:
        return self.body if isinstance(self.body, dict) else {}

    # -- writing ----------------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            raise ClientGone from exc
        except OSError as exc:
            if self.owner._stopping.is_set():
                raise EndConnection from exc
            raise ClientGone from exc

    def _headers(self, status: int, content_type: str, headers: Mapping[str, str] | None, extra: dict) -> None:
        self.responded = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in {**extra, **(headers or {})}.items():
            self.send_header(key, value)
        try:
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            raise ClientGone from exc

    def send_bytes(self, status: int, data: bytes, content_type: str, headers: Mapping[str, str] | None = None):
        self._headers(status, content_type, headers, {"Content-Length": str(len(data))})
        if self.command != "HEAD":
            self._write(data)

    def send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(obj).encode(), "application/json; charset=utf-8", headers)

    def send_error_body(self, status: int, default: Any, behaviour: ModelBehaviour | None, headers=None) -> None:
        """An error response: the behaviour's `error_body` if it has one, else the protocol's `default`."""
        body = behaviour.error_body if behaviour is not None and behaviour.error_body is not None else default
        headers = dict(headers or {})
        if status == 429 and behaviour is not None and behaviour.retry_after is not None:
            headers.setdefault("Retry-After", behaviour.retry_after)
            with contextlib.suppress(ValueError):
                # The openai SDK treats "Retry-After: 0" as absent (it then backs off ~0.5 s); its non-standard
                # retry-after-ms header, which OpenAI also sends, makes a retry immediate.
                headers.setdefault("retry-after-ms", str(max(1, round(float(behaviour.retry_after) * 1000))))
        if isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
            self.send_bytes(status, data, "text/plain; charset=utf-8", headers)
        else:
            self.send_json(status, body, headers)

    def start_stream(self, content_type: str, headers: Mapping[str, str] | None = None, status: int = 200) -> None:
        self._headers(status, content_type, headers, {"Transfer-Encoding": "chunked"})

    def write_chunk(self, data: bytes) -> None:
        if data:
            self._write(b"%X\r\n%s\r\n" % (len(data), data))

    def end_stream(self) -> None:
        self._write(b"0\r\n\r\n")

    def drop_connection(self) -> None:
        """Shut the socket mid-response: the client sees an incomplete chunked body / a vanished server."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the behaviour's timing and faults ---------------------------------------------------------------

    def pause(self, seconds: float | None) -> None:
        """Sleep, waking at once when the server stops (None: until the server stops)."""
        if seconds is not None and seconds <= 0:
            return
        if self.owner._stopping.wait(seconds):
            raise EndConnection

    def stream_plan(
        self, behaviour: ModelBehaviour, plan: ReplyPlan, emit: Callable[[str], None], emit_error: Callable[[str], None]
    ) -> bool:
        """Emit the plan's pieces with the behaviour's delays; True when the caller may send its final message.

        A cut shuts the socket (raises EndConnection); with `stream_error` the protocol's error line is sent and
        the response ends cleanly (False). `hang_after_chunks` stalls until the server stops."""
        for index in range(len(plan.chunks) + 1):
            if behaviour.cut_after_chunks is not None and index >= behaviour.cut_after_chunks:
                if behaviour.stream_error is not None:
                    emit_error(behaviour.stream_error)
                    self.end_stream()
                    return False
                raise EndConnection
            if behaviour.hang_after_chunks is not None and index >= behaviour.hang_after_chunks:
                self.pause(None)
            if index == len(plan.chunks):
                return True
            self.pause(behaviour.first_token_delay if index == 0 else behaviour.chunk_delay)
            emit(plan.chunks[index])
        return True

    def wait_whole_reply(self, behaviour: ModelBehaviour, plan: ReplyPlan) -> str | None:
        """For a non-streamed answer: wait as long as streaming would; a cut drops the connection before any
        response, and with `stream_error` the error message is returned for the caller to send."""
        self.pause(behaviour.first_token_delay + behaviour.chunk_delay * max(0, len(plan.chunks) - 1))
        if behaviour.hang_after_chunks is not None:
            self.pause(None)
        if behaviour.cut_after_chunks is not None:
            if behaviour.stream_error is not None:
                return behaviour.stream_error
            raise EndConnection
        return None


class TestServer:
    """A loopback HTTP server in a background thread. Use as a context manager, or start()/stop()."""

    __test__ = False  # not a pytest test class
    handler_class: type[BaseHandler] = BaseHandler
    default_model = "test-model"

    def __init__(
        self,
        models: Mapping[str, ModelBehaviour] | None = None,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.models: dict[str, ModelBehaviour] = (
            dict(models) if models is not None else {self.default_model: ModelBehaviour()}
        )
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.client_disconnects: list[str] = []  # model names whose stream the client abandoned mid-way
        self.errors: list[Exception] = []  # exceptions raised inside handlers (a failing reply_fn...)
        self._address = (host, port)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._httpd: _HTTPServer | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer(self._address, self.handler_class, self)
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="test-server"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake hanging handlers, close every connection and the listening socket."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            connections = dict(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in connections.values():
            thread.join(JOIN_TIMEOUT_S)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The bound port; still known after stop(), so tests can check that a stopped server refuses."""
        if self._port is None:
            raise RuntimeError("the server was never started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    @property
    def v1_url(self) -> str:
        """The OpenAI-compatible base URL (both servers serve /v1/models and /v1/chat/completions)."""
        return self.url + "/v1"

    # -- models ------------------------------------------------------------------------------------------

    def lookup(self, name: Any) -> ModelBehaviour | None:
        return self.models.get(name) if isinstance(name, str) else None

    def model_ids(self) -> list[str]:
        return list(self.models)

    def fails_now(self, behaviour: ModelBehaviour) -> bool:
        with self._lock:
            return behaviour.fails_now()

    # -- what the clients sent ---------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _record_disconnect(self, model: str) -> None:
        with self._lock:
            self.client_disconnects.append(model)

    def _record_error(self, exc: Exception) -> None:
        with self._lock:
            self.errors.append(exc)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def last_body(self, path: str) -> Any:
        found = self.requests_to(path)
        if not found:
            raise AssertionError(f"no request reached {path}; saw {[(r.method, r.path) for r in self.requests]}")
        return found[-1].body

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.client_disconnects.clear()
            self.errors.clear()

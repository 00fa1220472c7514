"""The HTTP boundary for the remote clients: one I/O method, httpx underneath, every httpx error translated here.

:class:`HttpTransport` is the *small transport* :class:`~.kubo.KuboClient`, :class:`~.storacha.StorachaClient`
and :class:`~.pinning_service.PinningServiceClient` talk through: ``request(method, url, ...) -> HttpResponse``.
Tests can pass any object with that one method. Network failures and timeouts become
:class:`RemoteUnavailableError` (``from`` the httpx exception); HTTP status handling is the caller's business.
The clients share :func:`request_with_retries` (one back-off loop; each client says which statuses are worth
another try and what a final failure means) and :class:`TransportClient` (closing, context manager).

Connections are reused (one httpx ``Client`` per API client, its pool kept for the client's life) and the proxy
settings of the environment are honoured (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``: httpx's
``trust_env``).

Kubo reports a failure that happens after a streamed response has started in the ``X-Stream-Error`` HTTP
*trailer*. httpx's default transport (httpcore) drops trailers, so :class:`~.kubo.KuboClient` asks for
``HttpTransport(trailers=True)``: a minimal h11-based httpx transport that keeps them (``HttpResponse.trailers`` is
filled once the body has been read to the end), keeps idle connections alive for the next request, and supports
``http`` and ``https``. A request that the environment sends through a forward proxy goes through httpx's own
transport instead, where trailers are not seen (proxies do not reliably forward them either).
"""

from __future__ import annotations

import base64
import contextlib
import select
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, Self

import h11
import httpx

from ..errors import ConfigurationError, RemoteUnavailableError

Body = bytes | Iterable[bytes] | None
SERVER_ERRORS = range(500, 600)


@dataclass
class HttpResponse:
    """A response whose body is consumed once, by iterating :meth:`iter_bytes` or calling :meth:`read`."""

    status: int
    headers: dict[str, str]
    _chunks: Iterator[bytes]
    _close: Callable[[], None] | None = None
    trailers: dict[str, str] = field(default_factory=dict)

    def iter_bytes(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        finally:
            self.close()

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def close(self) -> None:
        closer, self._close = self._close, None
        if closer is not None:
            closer()


class Transport(Protocol):
    def request(self, method: str, url: str, *, params: Sequence[tuple[str, str]] | None = None,
                headers: dict[str, str] | None = None, body: Body = None,
                timeout: float | None = None) -> HttpResponse: ...


_Origin = tuple[str, str, int]


class _H11Stream(httpx.SyncByteStream):
    """A response body read from ``sock``; read to its end on a connection both sides keep, the connection goes back
    to ``release`` for the next request, else it is closed."""

    def __init__(self, conn: h11.Connection, sock: socket.socket, trailers: dict[str, str],
                 release: Callable[[h11.Connection, socket.socket], None]) -> None:
        self._conn = conn
        self._sock = sock
        self._trailers = trailers
        self._release: Callable[[h11.Connection, socket.socket], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        while True:
            event = _next_event(self._conn, self._sock)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                for name, value in event.headers:
                    self._trailers[name.decode("latin-1").lower()] = value.decode("latin-1")
                if self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE and self._release:
                    release, self._release = self._release, None
                    self._conn.start_next_cycle()
                    release(self._conn, self._sock)
                return
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError("connection closed before the response ended")

    def close(self) -> None:
        if self._release is not None:  # not handed back: the body was not read to its end, or the server closes
            self._release = None
            self._sock.close()


def _still_open(sock: socket.socket) -> bool:
    """Whether an idle keep-alive connection is still usable (the server has not closed it or sent anything)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _next_event(conn: h11.Connection, sock: socket.socket) -> object:
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        if event is h11.NEED_DATA:
            try:
                data = sock.recv(65536)
            except TimeoutError as exc:
                raise httpx.ReadTimeout("timed out reading the response") from exc
            except OSError as exc:
                raise httpx.ReadError(str(exc)) from exc
            conn.receive_data(data)
            continue
        return event


class TrailerAwareTransport(httpx.BaseTransport):
    """An httpx transport over h11 that exposes response trailers as ``response.extensions["trailers"]``.

    Idle connections are kept (up to ``max_idle`` per origin) and reused; with ``trust_env`` a URL the environment's
    proxy settings route through a proxy is sent with httpx's own transport for that proxy (no trailers there).
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, trust_env: bool = True, max_idle: int = 4) -> None:
        self._ssl_context = ssl_context
        self._trust_env = trust_env
        self._max_idle = max_idle
        self._idle: dict[_Origin, list[tuple[h11.Connection, socket.socket]]] = {}
        self._proxied: dict[str, httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self._proxy_for(request.url)
        if proxy is not None:
            return self._proxy_transport(proxy).handle_request(request)
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts = request.extensions.get("timeout", {})
        conn, sock = self._checkout(origin) or (h11.Connection(h11.CLIENT), self._connect(origin, timeouts))
        try:
            sock.settimeout(timeouts.get("read"))
            headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"connection"]
            sock.sendall(conn.send(h11.Request(method=request.method, target=url.raw_path, headers=headers)))
            for chunk in request.stream:  # type: ignore[union-attr]
                if chunk:
                    sock.sendall(conn.send(h11.Data(data=chunk)))
            sock.sendall(conn.send(h11.EndOfMessage()))
            while True:
                event = _next_event(conn, sock)
                if isinstance(event, h11.Response):
                    break
                if isinstance(event, h11.ConnectionClosed):
                    raise httpx.RemoteProtocolError("server closed the connection without a response")
        except TimeoutError as exc:
            sock.close()
            raise httpx.WriteTimeout("timed out sending the request") from exc
        except (OSError, h11.LocalProtocolError) as exc:
            sock.close()
            raise httpx.WriteError(str(exc)) from exc
        except BaseException:
            sock.close()
            raise
        trailers: dict[str, str] = {}
        return httpx.Response(
            event.status_code, headers=event.headers,
            stream=_H11Stream(conn, sock, trailers, lambda c, s: self._checkin(origin, c, s)),
            extensions={"trailers": trailers, "http_version": b"HTTP/1.1"},
        )

    def _connect(self, origin: _Origin, timeouts: dict[str, float | None]) -> socket.socket:
        scheme, host, port = origin
        try:
            sock = socket.create_connection((host, port), timeout=timeouts.get("connect"))
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from exc
        if scheme != "https":
            return sock
        try:
            return (self._ssl_context or ssl.create_default_context()).wrap_socket(sock, server_hostname=host)
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise httpx.ConnectError(f"TLS with {host}:{port} failed: {exc}") from exc

    def _checkout(self, origin: _Origin) -> tuple[h11.Connection, socket.socket] | None:
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                conn, sock = idle.pop()
                if _still_open(sock):
                    return conn, sock
                sock.close()
        return None

    def _checkin(self, origin: _Origin, conn: h11.Connection, sock: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append((conn, sock))
                return
        sock.close()

    def _proxy_for(self, url: httpx.URL) -> str | None:
        """The environment's proxy for ``url`` (``None``: direct). ``proxy_bypass`` reads ``NO_PROXY`` from the
        environment whenever the environment names a proxy, which is the only case it is asked."""
        if not self._trust_env:
            return None
        proxies = urllib.request.getproxies_environment()
        proxy = proxies.get(url.scheme) or proxies.get("all")
        return None if not proxy or urllib.request.proxy_bypass(url.host) else proxy

    def _proxy_transport(self, proxy: str) -> httpx.HTTPTransport:
        with self._lock:
            if proxy not in self._proxied:
                self._proxied[proxy] = httpx.HTTPTransport(proxy=proxy, verify=self._ssl_context or True)
            return self._proxied[proxy]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
            proxied, self._proxied = self._proxied, {}
        for connections in idle.values():
            for _, sock in connections:
                sock.close()
        for transport in proxied.values():
            transport.close()


class HttpTransport:
    """One pooled httpx client; ``request`` is the only I/O method and the httpx exception boundary.

    ``trailers``: go through :class:`TrailerAwareTransport` (Kubo's RPC API); ``trust_env``: honour the
    environment's proxy settings (and, without ``trailers``, its ``SSL_CERT_FILE``)."""

    def __init__(self, *, timeout: float = 60.0, connect_timeout: float = 10.0,
                 ssl_context: ssl.SSLContext | None = None, trailers: bool = False, trust_env: bool = True) -> None:
        transport = TrailerAwareTransport(ssl_context=ssl_context, trust_env=trust_env) if trailers else None
        self._client = httpx.Client(
            transport=transport,
            verify=ssl_context or True,
            trust_env=trust_env,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
        )

    def request(self, method: str, url: str, *, params: Sequence[tuple[str, str]] | None = None,
                headers: dict[str, str] | None = None, body: Body = None,
                timeout: float | None = None) -> HttpResponse:
        try:
            request = self._client.build_request(
                method, url, params=httpx.QueryParams(list(params)) if params is not None else None, headers=headers,
                content=body,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise RemoteUnavailableError(f"{method} {_safe(url)} failed: {type(exc).__name__}: {exc}") from exc

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.iter_raw()
            except httpx.HTTPError as exc:
                raise RemoteUnavailableError(
                    f"{method} {_safe(url)}: response interrupted: {type(exc).__name__}: {exc}"
                ) from exc

        return HttpResponse(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            _chunks=chunks(),
            _close=response.close,
            trailers=response.extensions.get("trailers", {}),
        )

    def close(self) -> None:
        self._client.close()


def request_with_retries(
    transport: Transport, method: str, url: str, *, attempts: int, backoff: float, retry_status: Container[int],
    params: list[tuple[str, str]] | None = None, headers: dict[str, str] | None = None,
    body: Body | Callable[[], Body] = None, timeout: float | None = None,
) -> HttpResponse:
    """``transport.request`` up to ``attempts`` times, sleeping ``backoff * 2**attempt`` between tries.

    A transport failure (:class:`RemoteUnavailableError`) or a status in ``retry_status`` is retried; the last
    attempt's failure is raised and its response returned whatever its status, so each client decides what a final
    5xx means. ``body`` may be a zero-argument callable that builds a fresh body per attempt (a stream read by a
    failed attempt cannot be sent again); pass ``attempts=1`` for a request that must not be repeated.
    """
    if attempts < 1:
        raise ConfigurationError(f"attempts must be at least 1, got {attempts}")
    for attempt in range(attempts):
        last = attempt + 1 == attempts
        try:
            response = transport.request(method, url, params=params, headers=headers,
                                         body=body() if callable(body) else body, timeout=timeout)
        except RemoteUnavailableError:
            if last:
                raise
            time.sleep(backoff * 2**attempt)
            continue
        if response.status in retry_status and not last:
            response.close()
            time.sleep(backoff * 2**attempt)
            continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover


class TransportClient:
    """Base of the remote API clients: owns a :class:`Transport`, closes it, works as a context manager."""

    _transport: Transport

    def close(self) -> None:
        close = getattr(self._transport, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _safe(url: str) -> str:
    """A URL for messages: no query string (presigned URLs carry credentials there) and no userinfo."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(query=None, userinfo=b"")) if parsed.is_absolute_url else url


def redact_credentials(text: str, credentials: Iterable[str | None]) -> str:
    """``text`` a remote server sent (an error body, a trailer, an NDJSON error) with every credential this client
    sent replaced by ``<redacted>``: a server, or a proxy in front of it, may echo request headers back, and that
    text goes into exception messages and logs. For ``Bearer x`` / ``Basic b64`` header values the token, the
    base64 and the decoded ``user:password`` and password are redacted too."""
    needles: set[str] = set()
    for credential in credentials:
        if not credential:
            continue
        needles.add(credential)
        scheme, _, token = credential.partition(" ")
        if token:
            needles.add(token)
            if scheme.lower() == "basic":
                with contextlib.suppress(ValueError, UnicodeDecodeError):
                    decoded = base64.b64decode(token, validate=True).decode()
                    needles.update(part for part in (decoded, decoded.partition(":")[2]) if part)
    for needle in sorted((n for n in needles if len(n) >= 4), key=len, reverse=True):
        text = text.replace(needle, "<redacted>")
    return text

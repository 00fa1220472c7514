"""HTTP POST of JSON over persistent per-thread connections (stdlib ``http.client``).

Why not ``requests``: every ``requests`` call re-reads proxy settings from the environment, consults ~/.netrc and
builds a prepared request — about 380 µs of CPU per call here, against ~60 µs for ``http.client`` on a kept-alive
connection. The transaction sender makes thousands of calls per second, so that difference is its throughput.

What is kept from a full HTTP client: https (default TLS verification), credentials in the URL (sent as Basic
auth), environment proxies (``HTTP(S)_PROXY`` / ``NO_PROXY``, resolved once: a CONNECT tunnel for https, an
absolute-URI request for http), and a transparent reconnect when a kept-alive connection was closed by the server.
Messages show the URL without credentials, path or query (API keys often live there).
"""

from __future__ import annotations

import base64
import http.client
import threading
import urllib.parse
import urllib.request

from ...errors import ChainConnectionError, ConfigurationError

_RECONNECTABLE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, http.client.CannotSendRequest)


def redact_url(url: str) -> str:
    """``scheme://host:port`` only: no user info, path or query (they may carry API keys)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


class HttpJsonPoster:
    """POSTs bodies to one URL; one keep-alive connection per thread. Thread-safe."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"RPC URL must be http(s)://host[:port][/path], got {redact_url(url)!r}")
        self.url = url
        self.display_url = redact_url(url)
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if parts.username:
            user_info = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self._headers["Authorization"] = "Basic " + base64.b64encode(user_info.encode()).decode()
        self._proxy = None if urllib.request.proxy_bypass(self._host) else urllib.request.getproxies().get(parts.scheme)
        self._local = threading.local()

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._proxy:
            proxy = urllib.parse.urlsplit(self._proxy if "://" in self._proxy else f"http://{self._proxy}")
            proxy_host, proxy_port = proxy.hostname or "", proxy.port or 80
            if self._https:
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(proxy_host, proxy_port, timeout=timeout)
                conn.set_tunnel(self._host, self._port)
                return conn
            return http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout)
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def post(self, body: bytes, what: str, timeout: float | None = None) -> tuple[int, bytes]:
        """Send ``body``; returns (HTTP status, response body). Transport failures -> :class:`ChainConnectionError`."""
        timeout = self.timeout if timeout is None else timeout
        target = self.url if self._proxy and not self._https else self._path
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self._local.conn = self._connect(timeout)
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            try:
                conn.request("POST", target, body, self._headers)
                response = conn.getresponse()
                data = response.read()
            except _RECONNECTABLE as exc:
                self.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle kept-alive connection: one fresh try
                raise ChainConnectionError(f"{what}: RPC {self.display_url} closed the connection") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise ChainConnectionError(
                    f"{what}: RPC {self.display_url} is unreachable ({type(exc).__name__}: {exc})"
                ) from exc
            if response.will_close:
                self.close()
            return response.status, data
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def close(self) -> None:
        """Close this thread's connection (other threads keep theirs)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

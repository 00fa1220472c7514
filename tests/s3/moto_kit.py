"""Real moto servers for the S3 tests: ``moto.server`` in its own process on a free port (S3, SQS and IAM over HTTP,
as an S3-compatible server would serve them), started and stopped by the tests."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

REGION = "us-east-1"


@dataclass
class MotoServer:
    endpoint: str
    process: subprocess.Popen[bytes]

    def client(self, service: str = "s3", **credentials: str) -> Any:
        """A client of this server; credentials from the environment unless given."""
        return boto3.session.Session(**credentials).client(service, endpoint_url=self.endpoint, region_name=REGION)

    def enforce_auth(self) -> None:
        """From now on every request is authenticated and authorized against the server's IAM users."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert json.loads(reply.read())["status"] == "ok"

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_moto_server(port: int | None = None, timeout: float = 60.0) -> MotoServer:
    """``python -m moto.server`` on ``port`` (default: a free loopback port), once it answers."""
    if port is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = MotoServer(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"moto server on port {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{server.endpoint}/moto-api/", timeout=2):
                return server
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"moto server on port {port} did not answer within {timeout}s") from None
            time.sleep(0.1)


@dataclass
class S3Env:
    """The session's server, and the secret key this test put in the environment."""

    server: MotoServer
    access_key: str
    secret_key: str

    @property
    def endpoint(self) -> str:
        return self.server.endpoint


@dataclass
class LockedBucket:
    """A bucket on a server enforcing IAM, with one object, and the keys of a user allowed only to list it."""

    server: MotoServer
    bucket: str
    key: str
    access_key: str
    secret_key: str

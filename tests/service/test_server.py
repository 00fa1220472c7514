"""The uvicorn server the service runs on: each response reaches the socket in one write, and it is served whole."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from anacostia_blockchain.service import BackgroundServer
from anacostia_blockchain.service.server import _CoalescedWrites


class RecordingTransport:
    """A real transport, recording each write that reaches it."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.transport.write(data)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        self.transport.close()


def test_writes_of_one_loop_step_reach_the_socket_as_one() -> None:
    async def scenario() -> tuple[list[bytes], bytes]:
        received = bytearray()
        done = asyncio.Event()

        async def collect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            received.extend(await reader.read())  # until the client closes
            writer.close()
            done.set()

        server = await asyncio.start_server(collect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        recording = RecordingTransport(transport)
        coalesced = _CoalescedWrites(recording, loop)  # type: ignore[arg-type]
        coalesced.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
        coalesced.write(b"body")
        assert recording.writes == []  # nothing written within the step
        await asyncio.sleep(0)
        assert len(recording.writes) == 1
        coalesced.write(b"last")
        coalesced.close()  # what is pending is written before the transport closes
        await asyncio.wait_for(done.wait(), 10)
        server.close()
        await server.wait_closed()
        return recording.writes, bytes(received)

    writes, received = asyncio.run(scenario())
    assert writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody", b"last"]
    assert received == b"".join(writes)


def http_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = bytearray()
        while chunk := sock.recv(65536):
            answer.extend(chunk)
    return bytes(answer)


def test_the_server_answers_whole_responses_and_streams() -> None:
    async def page(_request: Request) -> Response:
        return Response(b'{"items":[]}', media_type="application/json")

    async def stream(_request: Request) -> StreamingResponse:
        async def parts() -> Any:
            for i in range(3):
                yield f"part {i}\n".encode()
                await asyncio.sleep(0.01)

        return StreamingResponse(parts(), media_type="text/plain")

    app = Starlette(routes=[Route("/page", page), Route("/stream", stream)])
    with BackgroundServer(app) as server:
        close = b"Host: x\r\nConnection: close\r\n\r\n"
        answer = http_exchange(server.port, b"GET /page HTTP/1.1\r\n" + close)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b'\r\n\r\n{"items":[]}')
        streamed = http_exchange(server.port, b"GET /stream HTTP/1.1\r\n" + close)
        assert b"transfer-encoding: chunked" in streamed
        assert all(f"part {i}\n".encode() in streamed for i in range(3)) and streamed.endswith(b"0\r\n\r\n")

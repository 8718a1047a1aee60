"""The proxy the offline door tests cut: it forwards both ways, a cut ends every connection and
refuses new ones, and a restore listens again on the same port. Against a small echo server, so
that a door test that fails is the door's failure, not the proxy's."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.tcp_proxy import TcpProxy

SOCKET_TIMEOUT = 10.0


class Echo:
    """Sends back every byte it is sent, one connection at a time, on a thread of its own."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, name="echo", daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _address = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(0.05)
                self.echo(connection)

    def echo(self, connection: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                data = connection.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            connection.sendall(data)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(SOCKET_TIMEOUT)
        assert not self.thread.is_alive(), "the echo server did not stop"
        self.listener.close()


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.stop()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)


def read_exactly(connection: socket.socket, size: int) -> bytes:
    received = bytearray()
    while len(received) < size:
        chunk = connection.recv(size - len(received))
        assert chunk, f"the connection closed after {len(received)} of {size} bytes"
        received += chunk
    return bytes(received)


def is_closed(connection: socket.socket) -> bool:
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


def test_the_proxy_forwards_until_cut_and_again_once_restored(echo):
    # More than the kernel's socket buffers hold, so the proxy has to keep bytes until they go.
    payload = bytes(range(256)) * 32768
    with TcpProxy(("127.0.0.1", echo.port)) as proxy:
        with connect(proxy.port) as first:
            first.sendall(payload)
            assert read_exactly(first, len(payload)) == payload
            assert proxy.connections == 1

            proxy.cut()
            assert is_closed(first), "a cut ends the connections open through the proxy"
            assert proxy.connections == 0
            with pytest.raises(ConnectionRefusedError):
                connect(proxy.port)

        proxy.restore()
        with connect(proxy.port) as second:
            second.sendall(b"back again")
            assert read_exactly(second, 10) == b"back again"

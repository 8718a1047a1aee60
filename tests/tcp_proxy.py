"""A TCP proxy a test puts between the code under test and PostgreSQL, and cuts and restores: the
network between a door and its database going away and coming back, while the database server,
which other tests share, goes on untouched and the test itself still reaches it directly.

One thread moves the bytes (a selector over every socket); `cut`, `restore` and `close` are
handed to it and waited for with a deadline, so no socket is touched by two threads at once.
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import threading
from dataclasses import dataclass, field

import sqlalchemy as sa

# Every command is done in a blink on an idle proxy; this is for a machine under heavy load.
COMMAND_DEADLINE_SECONDS = 10.0
CHUNK = 65536


@dataclass(eq=False)
class _End:
    """One side of a proxied connection: its socket, the other side, and the bytes waiting to be
    sent to it that it has not taken yet."""

    sock: socket.socket
    peer: _End | None = None
    waiting: bytearray = field(default_factory=bytearray)


class TcpProxy:
    """Listens on 127.0.0.1 on a port of its own and forwards every connection to `upstream`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._selector = selectors.DefaultSelector()
        self._commands: queue.SimpleQueue[tuple[str, threading.Event]] = queue.SimpleQueue()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._listener: socket.socket | None = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._ends: set[_End] = set()
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()

    @classmethod
    def to(cls, database_url: str) -> TcpProxy:
        """A proxy to the server a database URL names (a TCP host; PostgreSQL's port if none)."""
        url = sa.make_url(database_url)
        return cls((url.host or "127.0.0.1", url.port or 5432))

    def url_for(self, database_url: str) -> str:
        """`database_url`, reaching its database through this proxy."""
        url = sa.make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    @property
    def connections(self) -> int:
        """Proxied connections open now (each has two ends)."""
        return len(self._ends) // 2

    def cut(self) -> None:
        """Close every connection, and refuse new ones until `restore`."""
        self._command("cut")

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        self._command("restore")

    def close(self) -> None:
        if self._thread.is_alive():
            self._command("stop")
            self._thread.join(COMMAND_DEADLINE_SECONDS)
            if self._thread.is_alive():
                raise AssertionError("the TCP proxy's thread did not stop")
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the proxy's own thread ------------------------------------------------------------------

    def _command(self, name: str) -> None:
        done = threading.Event()
        self._commands.put((name, done))
        self._wake_writer.send(b"!")
        if not done.wait(COMMAND_DEADLINE_SECONDS):
            raise AssertionError(f"the TCP proxy did not {name} in time")

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # The port's closed connections linger in TIME_WAIT; listening again must not wait them out.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ)
        return listener

    def _run(self) -> None:
        running = True
        while running:
            for key, events in self._selector.select():
                if key.fileobj is self._wake_reader:
                    running = self._obey()
                elif key.fileobj is self._listener:
                    self._accept()
                elif key.data in self._ends:
                    self._move(key.data, events)

    def _obey(self) -> bool:
        """Carry out the commands waiting; False once told to stop."""
        with contextlib.suppress(BlockingIOError):
            self._wake_reader.recv(CHUNK)
        running = True
        while not self._commands.empty():
            name, done = self._commands.get()
            if name in ("cut", "stop"):
                self._drop_everything()
                running = running and name == "cut"
            elif name == "restore" and self._listener is None:
                self._listener = self._listen(self.port)
            done.set()
        return running

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _address = self._listener.accept()
        except BlockingIOError:
            return
        try:
            server = socket.create_connection(self.upstream, timeout=COMMAND_DEADLINE_SECONDS)
        except OSError:
            client.close()
            return
        near, far = _End(client), _End(server)
        near.peer, far.peer = far, near
        for end in (near, far):
            end.sock.setblocking(False)
            self._ends.add(end)
            self._selector.register(end.sock, selectors.EVENT_READ, end)

    def _move(self, end: _End, events: int) -> None:
        """Read what `end` sent into its peer's waiting bytes, and send `end` what waits for it."""
        peer = end.peer
        assert peer is not None
        try:
            if events & selectors.EVENT_READ:
                data = end.sock.recv(CHUNK)
                if not data:
                    self._hang_up(end)
                    return
                peer.waiting += data
                self._send(peer)
            if events & selectors.EVENT_WRITE:
                self._send(end)
        except OSError:
            self._hang_up(end)

    def _send(self, end: _End) -> None:
        if end.waiting:
            try:
                sent = end.sock.send(end.waiting)
            except BlockingIOError:
                sent = 0
            del end.waiting[:sent]
        wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if end.waiting else 0)
        self._selector.modify(end.sock, wanted, end)

    def _hang_up(self, end: _End) -> None:
        """One side closed: the other is closed too, once what it was sent has gone out."""
        peer = end.peer
        assert peer is not None
        if peer.waiting:
            peer.sock.setblocking(True)
            peer.sock.settimeout(1.0)
            with contextlib.suppress(OSError):
                peer.sock.sendall(peer.waiting)
        for gone in (end, peer):
            self._close(gone)

    def _close(self, end: _End) -> None:
        if end in self._ends:
            self._ends.discard(end)
            self._selector.unregister(end.sock)
            end.sock.close()

    def _drop_everything(self) -> None:
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
        for end in list(self._ends):
            self._close(end)

"""A TCP forwarder that a benchmark can cut: the database goes away for the client, as when a
cable is pulled or a server restarts, while PostgreSQL itself keeps running for the checks.

    with TcpProxy("127.0.0.1", 5432) as proxy:   # listens on 127.0.0.1:proxy.port
        proxy.cut()       # live connections closed, new ones refused
        proxy.restore()   # listening again, on the same port

The forwarding runs in a process of its own (this file run as a script, told `cut` and `restore`
one line at a time), so that, like a real network, it takes no turn of the measured program's
interpreter lock; `cut` and `restore` return once done.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Coroutine
from types import TracebackType

CHUNK = 65536
STEP_SECONDS = 10.0


class TcpProxy:
    """Forwards every connection made to 127.0.0.1:`port` to `target_host`:`target_port`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> TcpProxy:
        self._process = subprocess.Popen(
            [sys.executable, __file__, self.target[0], str(self.target[1])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self._answer())
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.close()  # the forwarder's cue to drop everything and exit
        try:
            self._process.wait(timeout=STEP_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=STEP_SECONDS)
        finally:
            if self._process.stdout is not None:
                self._process.stdout.close()

    def cut(self) -> None:
        """Stop listening (a connection attempt is refused at once) and drop every connection
        open through the proxy, on both sides."""
        self._say("cut")

    def restore(self) -> None:
        """Listen again, on the same port."""
        self._say("restore")

    def _say(self, command: str) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(f"{command}\n")
        self._process.stdin.flush()
        if self._answer() != "done":
            raise RuntimeError(f"the proxy did not {command}")

    def _answer(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the proxy exited with status {self._process.wait(STEP_SECONDS)}")
        return line.strip()


class Forwarder:
    """The proxy's own work, in the proxy's process: an asyncio loop in a thread of its own,
    so that the main thread can wait for commands."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._forwarding: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._thread.start()
        self.restore()

    def stop(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=STEP_SECONDS)

    def cut(self) -> None:
        self._step(self._cut())

    def restore(self) -> None:
        """Listen again on the same port; the first time, on a free one."""
        self._step(self._listen())

    def _step(self, work: Coroutine[object, object, None]) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=STEP_SECONDS)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._forward, "127.0.0.1", self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._live):
            writer.transport.abort()
        if self._forwarding:
            await asyncio.wait(list(self._forwarding), timeout=STEP_SECONDS)

    async def _forward(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._forwarding.add(task)
        try:
            server, to_server = await asyncio.open_connection(*self.target)
        except OSError:
            to_client.transport.abort()
            self._forwarding.discard(task)
            return
        pair = {to_client, to_server}
        self._live |= pair
        pumps = [
            asyncio.ensure_future(_pump(client, to_server)),
            asyncio.ensure_future(_pump(server, to_client)),
        ]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        await asyncio.wait(pumps)
        for writer in pair:
            writer.transport.abort()
        self._live -= pair
        self._forwarding.discard(task)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One direction, until its side closes or the connection is dropped."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except OSError:
        return


def main() -> None:
    """`tcp_proxy.py HOST PORT`: prints the port it listens on, then does each `cut` or
    `restore` read from stdin and answers `done`, until stdin closes."""
    forwarder = Forwarder(sys.argv[1], int(sys.argv[2]))
    forwarder.start()
    print(forwarder.port, flush=True)
    for line in sys.stdin:
        {"cut": forwarder.cut, "restore": forwarder.restore}[line.strip()]()
        print("done", flush=True)
    forwarder.stop()


if __name__ == "__main__":
    main()

"""A real SMTP server on 127.0.0.1 for tests, built on aiosmtpd, that keeps what it receives.

    peer = SMTPPeer()                      # picks a free port; nothing listens yet
    env = {"AZCTL_SMTP_URL": peer.url}     # the URL is known before the server starts
    peer.start()
    ...                                    # send mail to peer.url
    [message] = peer.wait_for(1)           # email.message.EmailMessage (policy=default)
    peer.stop()

`SMTPPeer` is also a context manager (`with SMTPPeer() as peer:` starts and stops it).

Options:
- `security="plain"` (default), `"starttls"` (STARTTLS offered and required before MAIL) or
  `"smtps"` (TLS from the first byte). Both TLS kinds need `certificate=make_certificate(dir)`,
  and the client must trust it: point the standard `SSL_CERT_FILE` variable at
  `certificate.cert_file` (OpenSSL reads it in `ssl.create_default_context()`, in this process
  or in a child given that environment).
- `login=("user", "password")`: AUTH (PLAIN or LOGIN) required before MAIL; `peer.url` then
  carries these credentials, `peer.url_with(password="wrong")` others.
- `refuse="451 4.3.0 Try again later"`: every message is answered with that reply and not kept;
  set `peer.refuse = None` to accept again.
- `delay=2.5`: a slow server; each message's data is held that many seconds before it is
  answered (and kept). `peer.receiving` is set once a message's data has arrived, so a test
  knows a delivery is under way; `peer.delay` can be changed while it runs.
- `rcpt_delay=1.0`: a server slow at every recipient (RCPT TO is answered after that long).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
Security = Literal["plain", "starttls", "smtps"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path


def make_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made with the `openssl` command."""
    directory.mkdir(parents=True, exist_ok=True)
    certificate = Certificate(directory / "smtp-peer.crt", directory / "smtp-peer.key")
    command = [
        *("openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=localhost"),
        *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
        *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
    ]
    command += ["-keyout", str(certificate.key_file), "-out", str(certificate.cert_file)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return certificate


class SMTPPeer:
    """An SMTP server on 127.0.0.1; see the module's docstring."""

    def __init__(
        self,
        *,
        security: Security = "plain",
        certificate: Certificate | None = None,
        login: tuple[str, str] | None = None,
        refuse: str | None = None,
        delay: float = 0.0,
        rcpt_delay: float = 0.0,
        port: int | None = None,
    ) -> None:
        if security != "plain" and certificate is None:
            raise ValueError(f"security={security!r} needs a certificate (make_certificate)")
        self.security = security
        self.login = login
        self.refuse = refuse
        self.delay = delay
        self.rcpt_delay = rcpt_delay
        self.receiving = threading.Event()
        self.port = port or free_port()
        self.certificate = certificate
        self._received: list[EmailMessage] = []
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        certificate = self.certificate
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certificate.cert_file, certificate.key_file)
            if self.security == "smtps":
                options["ssl_context"] = context
            else:
                options.update(tls_context=context, require_starttls=self.security == "starttls")
        if self.login is not None:
            options.update(
                authenticator=self._authenticate,
                auth_required=True,
                # aiosmtpd counts only STARTTLS as TLS; login in plain text is for loopback tests.
                auth_require_tls=self.security == "starttls",
            )
        return options

    def _authenticate(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        expected = tuple(part.encode() for part in self.login or ("", ""))
        given = (data.login, data.password) if isinstance(data, LoginPassword) else None
        return AuthResult(success=given == expected, handled=False)

    @property
    def url(self) -> str:
        """The `AZCTL_SMTP_URL` that reaches this peer, with its login if it has one."""
        user, password = self.login or (None, None)
        return self.url_with(user=user, password=password)

    def url_with(self, *, user: str | None = None, password: str | None = None) -> str:
        scheme = "smtps" if self.security == "smtps" else "smtp"
        credentials = ""
        if user is not None:
            credentials = f"{quote(user, safe='')}:{quote(password or '', safe='')}@"
        query = "?starttls=1" if self.security == "starttls" else ""
        return f"{scheme}://{credentials}{HOST}:{self.port}{query}"

    def start(self) -> SMTPPeer:
        """Listen on `port` (again, after a `stop`: a server that went down and came back)."""
        if self._controller is None:
            controller = _Controller(
                _Handler(self), hostname=HOST, port=self.port, **self._options()
            )
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening; safe when never started, or stopped already."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SMTPPeer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        """What has arrived so far, in order of arrival (a copy)."""
        with self._arrived:
            return list(self._received)

    def wait_for(self, count: int, *, timeout: float = 15.0) -> list[EmailMessage]:
        """Every message received, once at least `count` have arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    subjects = [str(message["Subject"]) for message in self._received]
                    raise AssertionError(
                        f"{len(subjects)} of {count} messages arrived in {timeout:g} s: {subjects}"
                    )
                self._arrived.wait(left)
            return list(self._received)

    def _keep(self, content: bytes) -> None:
        message = BytesParser(policy=policy.default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        with self._arrived:
            self._received.append(message)
            self._arrived.notify_all()


class _Controller(Controller):
    def factory(self) -> Any:
        # aiosmtpd warns, in its server thread, at every connection to a server that takes a
        # login without TLS: a choice these tests make on purpose.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return super().factory()


class _Handler:
    def __init__(self, peer: SMTPPeer) -> None:
        self.peer = peer

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if self.peer.rcpt_delay:
            await asyncio.sleep(self.peer.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.peer.receiving.set()
        if self.peer.delay:
            await asyncio.sleep(self.peer.delay)
        if self.peer.refuse:
            return self.peer.refuse
        self.peer._keep(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

"""Fixtures for the service tests, on top of tests/conftest.py (each test runs on both backends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from azctl.models import Staff
from tests.smtp_peer import Certificate, Security, SMTPPeer, make_certificate


@pytest.fixture
def anna(make_staff: Callable[..., tuple[Staff, str]]) -> Staff:
    member, _token = make_staff("anna", "box_office", display_name="Anna Verdi")
    return member


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """One self-signed certificate for 127.0.0.1, for every TLS peer of the run."""
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def smtp_peer(
    smtp_certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., SMTPPeer]]:
    """Makes real SMTP servers on 127.0.0.1 (`tests/smtp_peer.py`), all stopped at the end.

    `smtp_peer(security="starttls", login=("box", "secret"))` is listening when returned;
    `start=False` gives one that is not, to be started later. A TLS peer's certificate is
    trusted through SSL_CERT_FILE, as `ssl.create_default_context()` reads it.
    """
    peers: list[SMTPPeer] = []

    def make(*, start: bool = True, security: Security = "plain", **options: Any) -> SMTPPeer:
        certificate = None
        if security != "plain":
            certificate = smtp_certificate
            monkeypatch.setenv("SSL_CERT_FILE", str(smtp_certificate.cert_file))
        peer = SMTPPeer(security=security, certificate=certificate, **options)
        peers.append(peer)
        return peer.start() if start else peer

    yield make
    for peer in peers:
        peer.stop()

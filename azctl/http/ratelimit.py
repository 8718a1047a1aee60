"""Per-client, per-endpoint rate limits for booking, confirmation and scans (`limits`).

The client is the peer address; `X-Forwarded-For` is believed only when the peer is one of
`AZCTL_TRUSTED_PROXIES`, and then the nearest address that is not a trusted proxy is the client.
Storage is in memory (per process) unless `AZCTL_RATELIMIT_STORAGE` names a shared one.
"""

from __future__ import annotations

import ipaddress
import math
import time

import falcon
import limits
import limits.errors
import limits.storage
import limits.strategies

from azctl.http.problems import RateLimited
from azctl.settings import Network, Settings


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class ClientIdentity:
    """Who is asking, as far as a rate limit is concerned."""

    def __init__(self, trusted_proxies: tuple[Network, ...]) -> None:
        self.trusted_proxies = trusted_proxies

    def _trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted_proxies)

    def of(self, req: falcon.Request) -> str:
        peer = req.remote_addr or "unknown"
        if not self._trusted(_address(peer)):
            return peer
        forwarded = req.get_header("X-Forwarded-For") or ""
        for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
            address = _address(hop)
            if address is None:
                return peer
            if not self._trusted(address):
                return str(address)
        return peer


class RateLimiter:
    """One `limits` window per client and endpoint scope; `off` lets everything through."""

    def __init__(self, *, limit: str, storage_uri: str, identity: ClientIdentity) -> None:
        self.item = None if limit == "off" else limits.parse(limit)
        storage = limits.storage.storage_from_string(storage_uri)
        # A shared store that does not answer is found at start-up, as one line, rather than as
        # a failure of every limited request.
        if not storage.check():
            raise limits.errors.ConfigurationError("its server does not answer")
        self.strategy = limits.strategies.FixedWindowRateLimiter(storage)
        self.identity = identity

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        return cls(
            limit=settings.rate_limit,
            storage_uri=settings.ratelimit_storage,
            identity=ClientIdentity(settings.trusted_proxy_networks),
        )

    def hit(self, req: falcon.Request, scope: str) -> None:
        """Count this request; over the limit it is refused with 429 and `Retry-After`."""
        if self.item is None:
            return
        client = self.identity.of(req)
        if self.strategy.hit(self.item, scope, client):
            return
        reset_at = self.strategy.get_window_stats(self.item, scope, client).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise RateLimited(
            f"too many requests; try again in {retry_after} seconds", retry_after=retry_after
        )

"""``/metrics``: for the operator's Prometheus, not the public.

Who may read it:

- with ``JIMU_METRICS_TOKEN``: whoever sends ``Authorization: Bearer <token>``
  (compared in constant time; 401 otherwise), from anywhere, or only from
  ``JIMU_METRICS_ALLOW`` when that is set too (403 otherwise);
- without a token: only clients in ``JIMU_METRICS_ALLOW``, by default the
  loopback addresses (403 otherwise). A request that says it was forwarded
  (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``) by a peer that is not one
  of ``JIMU_TRUSTED_PROXIES`` is refused too: a reverse proxy on the same host
  makes every public request look local.

The client's address is the one the budgets use (``gateway.admission.client_address``).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from gateway.admission import client_address
from gateway.metrics import Metrics
from gateway.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = ("127.0.0.0/8", "::1/128")
ANYWHERE = ("0.0.0.0/0", "::/0")
_FORWARDING = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


class MetricsGuard:
    """Says why a request may not read /metrics, or None when it may."""

    def __init__(self, token: str | None, allow: Sequence[str], trusted_proxies: Sequence[str]) -> None:
        self._token = token.encode() if token else None
        self._allow = [ipaddress.ip_network(n) for n in (allow or (LOOPBACK if token is None else ANYWHERE))]
        self._proxies = [ipaddress.ip_network(n) for n in trusted_proxies]

    @classmethod
    def of(cls, settings: Settings) -> MetricsGuard:
        return cls(settings.metrics_token, settings.metrics_allow, settings.trusted_proxies)

    def refusal(self, scope: dict[str, Any]) -> Response | None:
        if self._token is not None:
            presented = _bearer(scope)
            if presented is None:
                return _refuse(401, "/metrics needs its token: send Authorization: Bearer <JIMU_METRICS_TOKEN>")
            if not hmac.compare_digest(presented, self._token):
                return _refuse(401, "that is not the metrics token (JIMU_METRICS_TOKEN)")
        elif self._forwarded_by_stranger(scope):
            return _refuse(403, "/metrics is not for requests forwarded by a proxy jimu does not trust "
                                "(JIMU_TRUSTED_PROXIES); set JIMU_METRICS_TOKEN to read it through one")
        if not _within(client_address(scope, self._proxies), self._allow):
            return _refuse(403, "/metrics does not answer this address: it answers JIMU_METRICS_ALLOW "
                                "(by default loopback only, unless JIMU_METRICS_TOKEN is set)")
        return None

    def _forwarded_by_stranger(self, scope: dict[str, Any]) -> bool:
        if not any(name in _FORWARDING for name, _ in scope.get("headers", ())):
            return False
        peer = (scope.get("client") or ("unknown", 0))[0]
        return not _within(peer, self._proxies)


def metrics_endpoint(metrics: Metrics, guard: MetricsGuard) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        refused = guard.refusal(request.scope)
        if refused is not None:
            return refused
        body, content_type = metrics.scrape(request.headers.get("accept", ""))
        return Response(body, headers={"content-type": content_type, "cache-control": "no-store"})

    return endpoint


def _bearer(scope: dict[str, Any]) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credentials = value.partition(b" ")
            return credentials.strip() if scheme.lower() == b"bearer" else None
    return None


def _within(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket's view of an IPv4 client
    return any(ip in network for network in networks)


def _refuse(status: int, message: str) -> Response:
    headers = {"www-authenticate": 'Bearer realm="jimu-metrics"'} if status == 401 else {}
    return PlainTextResponse(message + "\n", status_code=status, headers={**headers, "cache-control": "no-store"})

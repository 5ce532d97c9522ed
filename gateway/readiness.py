"""Readiness, apart from liveness: whether this worker should be sent requests now.

``/healthz`` says the process and its database answer; ``/readyz`` also that the
database's schema is the one this code runs on (migrations at head) and, when
Redis is configured, that Redis answers. A load balancer sends traffic on
``/readyz``; a supervisor restarts on ``/healthz``.
"""

from __future__ import annotations

from gateway.migrate import behind, head
from gateway.shared import SharedState
from gateway.wiring import Adapters


async def readiness(adapters: Adapters, shared: SharedState, redis: bool) -> dict[str, str]:
    """Each check's outcome: "ok", or what is wrong."""
    checks: dict[str, str] = {}
    if not await adapters.ping():
        checks["database"] = "does not answer"
        checks["migrations"] = "unknown: the database does not answer"
    else:
        checks["database"] = "ok"
        try:
            current = await adapters.revision()
        except Exception as exc:  # noqa: BLE001 - gone since the ping: not ready, and why
            checks["migrations"] = f"unknown: the database did not answer ({type(exc).__name__})"
        else:
            checks["migrations"] = (f"behind: at {current}, this code needs {head()} (run jimu migrate)"
                                    if behind(current) else "ok")
    if redis:
        checks["redis"] = "ok" if await shared.ping() else "does not answer"
    return checks

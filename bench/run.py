"""Benchmarks of the gateway (see bench/README.md).

    python bench/run.py listing [--db sqlite|postgresql|both] [--cache hot|cold|both] [--rounds 5] [--seconds 3]
    python bench/run.py mix [--redis] [--seconds 30] [--claim-seconds 15] [--workers 4]

``listing``: the 20-product listing on one uvicorn worker against a bare Starlette
endpoint answering the same bytes, hot (default response cache) and cold
(``JIMU_RESPONSE_CACHE_SECONDS=0``), on SQLite and PostgreSQL; wrk is the load.

``mix``: a sale-day mix (reads, coupon claims, cart + checkout) on PostgreSQL with
4 workers, then coupon claims on their own; a Python asyncio load generator.

The servers are ``jimu`` from PATH: activate the venv of the checkout to measure.
Two cores, shared by the load generator and the servers: read ratios and CPU per
request before absolute throughput.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import listing  # noqa: E402
import mix  # noqa: E402


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="bench", required=True)

    a = sub.add_parser("listing", help="the listing page against a bare Starlette endpoint (wrk)")
    a.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    a.add_argument("--cache", choices=["hot", "cold", "both"], default="both",
                   help="hot: JIMU_RESPONSE_CACHE_SECONDS unset; cold: JIMU_RESPONSE_CACHE_SECONDS=0")
    a.add_argument("--rounds", type=int, default=5, help="rounds per server (alternating which goes first)")
    a.add_argument("--seconds", type=int, default=3, help="length of one wrk run (whole seconds, as wrk takes)")
    a.add_argument("--warmup", type=int, default=2, help="an uncounted wrk run per server first (s, 0: none)")
    a.add_argument("--connections", type=int, default=16, help="wrk -c")
    a.add_argument("--threads", type=int, default=1, help="wrk -t")
    a.add_argument("--keep", action="store_true", help="keep the logs and answers (temp dir)")

    m = sub.add_parser("mix", help="sale-day mix and coupon claims/s on PostgreSQL, several workers")
    m.add_argument("--redis", action="store_true", help="serve with JIMU_REDIS_URL=redis://127.0.0.1:6379/0")
    m.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    m.add_argument("--workers", type=int, default=4, help="jimu serve --workers")
    m.add_argument("--seconds", type=float, default=30.0, help="length of the mix")
    m.add_argument("--claim-seconds", type=float, default=15.0, help="length of the claims-only run (0: skip)")
    m.add_argument("--warmup", type=float, default=3.0, help="uncounted reads first")
    m.add_argument("--concurrency", type=int, default=32, help="connections kept busy by the load generator")
    m.add_argument("--ops-per-connection", type=int, default=10,
                   help="reconnect after this many operations, so connections spread over the workers (0: never)")
    m.add_argument("--mix-shoppers", type=int, default=1000, help="shoppers signed in for the mix's claims")
    m.add_argument("--claim-shoppers", type=int, default=3000, help="shoppers signed in for the claims-only run")
    m.add_argument("--checkout-shoppers", type=int, default=100, help="shoppers who make carts and check out")
    m.add_argument("--keep", action="store_true", help="keep the logs (temp dir)")
    return p


if __name__ == "__main__":
    args = parser().parse_args()
    {"listing": listing.main, "mix": mix.main}[args.bench](args)

"""The listing page against the floor: ``jimu serve`` (one worker) and bare Starlette, in one run.

For each database (a temp SQLite file; a fresh PostgreSQL database, dropped WITH
(FORCE) afterwards) the generated 60-product shop is imported, then for HOT
(``JIMU_RESPONSE_CACHE_SECONDS`` unset: the gateway's default response cache) and COLD
(``JIMU_RESPONSE_CACHE_SECONDS=0``: no cache) a gateway is started, asked the
listing query once (the answer is checked: no errors, 20 products, 4 coupons and
3 SKUs each, 3 delivery options per SKU), and a bare Starlette app is started
answering those exact bytes. wrk (``-t1 -c16``, bench/post.lua) then loads each in
turn, round after round, gateway first on even rounds and bare first on odd ones.

Per wrk run: requests/s, p50 and p99 latency, and the server's CPU per request
(utime+stime of the server process and all its descendants from /proc, read
before the run and once the server is idle after it, divided by the requests wrk
sent: see ``measured``). Reported: the median over rounds of each, and the median
of the per-round gateway/bare ratios; on PostgreSQL also the CPU of the bench
database's backends per request.
The machine has two cores shared by wrk, both servers and whatever else runs:
compare the ratios and the CPU per request, not the absolute throughput.
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import common

LUA = common.HERE / "post.lua"


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # server CPU per request sent, microseconds (see measured)
    requests: int  # completed (answered before wrk stopped)
    sent: int  # sent, the ones cut off at the end included
    wrk_cpu: float  # seconds
    seconds: float  # wrk's run time
    cpu_us_completed: float = 0.0  # the naive figure: CPU until wrk stopped / completed requests
    db_cpu_us: float = 0.0  # PostgreSQL backends' CPU per request sent (0 on SQLite: it runs in the server)
    machine_cores: float = 0.0  # how busy the whole machine was during the run, in cores
    other_cores: float = 0.0  # of which neither this server, its database backends nor wrk: the neighbours


def wrk(url: str, body_file: Path, seconds: int, connections: int, threads: int, warmup: bool = False) -> Run:
    """One wrk run; CPU is read by the caller. Exits loudly on any non-200 or GraphQL error."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
           "-s", str(LUA), url]
    env = {**os.environ, "BENCH_BODY_FILE": str(body_file), "BENCH_KEY": common.PUBLISHABLE_KEY}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH {")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk against {url} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    r = json.loads(line[len("BENCH "):])
    if r["non200"] or r["graphql_errors"] or (r["requests"] == 0 and r["sent"] == 0 and not warmup):
        raise SystemExit(f"wrk against {url}: {r}\n{done.stdout}")
    socket_errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
    if socket_errors:
        print(f"  warning: {socket_errors} socket errors/timeouts against {url}: {r}")
    if r["requests"] == 0 and not warmup:
        print(f"  warning: no request completed in {seconds} s against {url} ({r['sent']} sent): the first requests"
              " took longer than the run; its latency is left out, its 0 req/s is kept (try a longer --seconds)")
    nan = float("nan")
    return Run(rps=r["requests"] / (r["duration_us"] / 1e6),
               p50_ms=r["p50_us"] / 1000 if r["requests"] else nan, p99_ms=r["p99_us"] / 1000 if r["requests"] else nan,
               cpu_us=0.0, requests=r["requests"], sent=r["sent"], wrk_cpu=wrk_cpu, seconds=r["duration_us"] / 1e6)


def measured(server: common.Server, body_file: Path, seconds: int, connections: int, threads: int,
             pg: common.PostgresCpu) -> Run:
    """A wrk run with the server's CPU per request.

    The requests still in flight when wrk stops (up to one per connection) are
    still worked on by the server; at a few dozen requests per run they would
    weigh heavily. So the CPU is read from just before the run until the server
    has gone idle again, and divided by the requests wrk SENT (counted in post.lua).
    The naive figure (CPU read as wrk exits / requests completed) is kept too.
    """
    pg.start()
    machine = common.machine_ticks()
    before = common.tree_cpu_seconds(server.pid)
    run = wrk(server.url(), body_file, seconds, connections, threads)
    at_exit = common.tree_cpu_seconds(server.pid)
    run.machine_cores = common.busy_share(machine, common.machine_ticks())
    drained = common.wait_idle(server.pid)
    sent = max(run.sent, run.requests)
    run.cpu_us = (drained - before) / sent * 1e6
    run.cpu_us_completed = (at_exit - before) / run.requests * 1e6 if run.requests else float("nan")
    db_cpu = pg.seconds()
    run.db_cpu_us = db_cpu / sent * 1e6
    run.other_cores = run.machine_cores - ((at_exit - before) + run.wrk_cpu + db_cpu) / run.seconds
    return run


def one_config(db: str, cache: str, url: str, workdir: Path, args) -> dict:  # type: ignore[no-untyped-def]
    env = {**os.environ, "JIMU_DATABASE_URL": url}
    env.pop("JIMU_RESPONSE_CACHE_SECONDS", None)
    if cache == "cold":
        env["JIMU_RESPONSE_CACHE_SECONDS"] = "0"
    gw = common.gateway(env, common.free_port(), workdir / f"gateway-{db}-{cache}.log")
    br = None
    pg = common.PostgresCpu(url)
    try:
        gw.wait_ready()
        body = common.listing_body()
        body_file = workdir / "listing-body.json"
        body_file.write_bytes(body)
        status, answer = common.post(gw.url(), body, {"X-Jimu-Key": common.PUBLISHABLE_KEY})
        if status != 200:
            raise SystemExit(f"listing answered {status}: {answer[:500]!r}")
        problems = common.check_listing(answer)
        if any(p.startswith("errors") or p.startswith("not JSON") for p in problems):
            raise SystemExit(f"listing on {db}/{cache} fails: {problems}")
        for p in problems[:10]:
            print(f"  CHECK FAILED ({db}/{cache}): {p}")
        if len(problems) > 10:
            print(f"  ... and {len(problems) - 10} more")
        answer_file = workdir / f"answer-{db}-{cache}.json"
        answer_file.write_bytes(answer)
        br = common.bare(answer_file, common.free_port(), workdir / f"bare-{db}-{cache}.log")
        br.wait_ready()
        status, bare_answer = common.post(br.url(), body, {"X-Jimu-Key": common.PUBLISHABLE_KEY})
        assert status == 200 and bare_answer == answer, "the bare app must answer the gateway's exact bytes"
        for server in (gw, br) if args.warmup > 0 else ():  # warm up: imports, pools, caches; not counted
            wrk(server.url(), body_file, args.warmup, args.connections, args.threads, warmup=True)
            common.wait_idle(server.pid)
        runs: dict[str, list[Run]] = {"gateway": [], "bare": []}
        for r in range(args.rounds):
            order = [gw, br] if r % 2 == 0 else [br, gw]
            for server in order:
                run = measured(server, body_file, args.seconds, args.connections, args.threads,
                               pg if server is gw else common.PostgresCpu(None))
                runs[server.name].append(run)
                print(f"  {db:10} {cache:4} round {r} {server.name:7}  {run.rps:8.1f} req/s  p50 {run.p50_ms:7.2f} ms"
                      f"  p99 {run.p99_ms:7.2f} ms  cpu {run.cpu_us:8.0f} us/req  ({run.requests} done, {run.sent} sent;"
                      f" naive {run.cpu_us_completed:.0f})"
                      + (f"  postgres {run.db_cpu_us:.0f} us/req" if server is gw and db == "postgresql" else "")
                      + f"  machine busy {run.machine_cores:.2f} cores, {run.other_cores:.2f} of them others",
                      flush=True)
        rss = common.rss_mb(gw.pid)
    finally:
        if br is not None:
            br.stop()
        gw.stop()
    g, b = runs["gateway"], runs["bare"]

    def med(values) -> float:  # type: ignore[no-untyped-def]
        kept = [v for v in values if not math.isnan(v)]
        return statistics.median(kept) if kept else float("nan")

    return {
        "db": db, "cache": cache, "bytes": len(answer), "check": "ok" if not problems else f"{len(problems)} problems",
        "gw_rps": med(x.rps for x in g), "bare_rps": med(x.rps for x in b),
        "rps_ratio": med(x.rps / y.rps for x, y in zip(g, b, strict=True)),
        "gw_p50": med(x.p50_ms for x in g), "gw_p99": med(x.p99_ms for x in g),
        "bare_p50": med(x.p50_ms for x in b), "bare_p99": med(x.p99_ms for x in b),
        "gw_cpu": med(x.cpu_us for x in g), "bare_cpu": med(x.cpu_us for x in b),
        "gw_cpu_naive": med(x.cpu_us_completed for x in g), "bare_cpu_naive": med(x.cpu_us_completed for x in b),
        "gw_requests": sum(x.requests for x in g), "bare_requests": sum(x.requests for x in b),
        "cpu_ratio": med(x.cpu_us / y.cpu_us for x, y in zip(g, b, strict=True)),
        "gw_db_cpu": med(x.db_cpu_us for x in g),
        "machine_cores": med(x.machine_cores for x in g + b),
        "other_cores": med(x.other_cores for x in g + b),
        "rss_mb": rss,
    }


def main(args) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not on PATH")
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    caches = ["hot", "cold"] if args.cache == "both" else [args.cache]
    print(f"listing: {args.rounds} rounds x {args.seconds} s per server, wrk -t{args.threads} -c{args.connections}, "
          f"warm-up {args.warmup} s; {common.machine_note()}", flush=True)
    rows = []
    workdir = Path(tempfile.mkdtemp(prefix="jimu-bench-listing-"))
    try:
        for db in dbs:
            with common.database(db, "listing") as url:
                common.import_catalog({**os.environ, "JIMU_DATABASE_URL": url}, workdir)
                for cache in caches:
                    rows.append(one_config(db, cache, url, workdir, args))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs and answers kept in {workdir}")
    print()
    print("listing, medians over rounds (ratios: median of per-round gateway/bare)")
    head = (f"{'db':10} {'cache':5} {'gw req/s':>9} {'bare req/s':>10} {'rps ratio':>9} {'gw p50':>7} {'gw p99':>7} "
            f"{'bare p50':>8} {'bare p99':>8} {'gw cpu/req':>10} {'bare cpu/req':>12} {'cpu ratio':>9} "
            f"{'pg cpu/req':>10} {'gw RSS':>7} {'others':>6} {'answer':>7} check")
    print(head)
    print(f"{'':10} {'':5} {'':>9} {'':>10} {'':>9} {'ms':>7} {'ms':>7} {'ms':>8} {'ms':>8} {'us':>10} {'us':>12} "
          f"{'':>9} {'us':>10} {'MB':>7} {'cores':>6} {'bytes':>7}")
    for x in rows:
        print(f"{x['db']:10} {x['cache']:5} {x['gw_rps']:9.1f} {x['bare_rps']:10.1f} {x['rps_ratio']:9.4g} "
              f"{x['gw_p50']:7.1f} {x['gw_p99']:7.1f} {x['bare_p50']:8.2f} {x['bare_p99']:8.2f} "
              f"{x['gw_cpu']:10.0f} {x['bare_cpu']:12.0f} {x['cpu_ratio']:9.4g} {x['gw_db_cpu'] if x['db'] == 'postgresql' else float('nan'):10.0f} {x['rss_mb']:7.1f} {x['other_cores']:6.2f} {x['bytes']:7d} "
              f"{x['check']}")
    print("BENCH-JSON listing " + json.dumps(rows))

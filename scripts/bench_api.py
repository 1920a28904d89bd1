#!/usr/bin/env python3
"""The HTTP API at scale: fills the stores, starts the release binary, prints p50/p99 per endpoint.

    cargo build --release -p elf-resilience-server
    python3 scripts/bench_api.py [--requests 1000000] [--breakers 10000] [--days 30]
                                 [--connections 10] [--calls 400] [--bin target/release/elf-resilience]
                                 [--redis]

The SQLite files are filled with plain SQL in a few large transactions (the binary creates the
schema first, so its triggers and indexes are the ones measured): `--requests` queued requests
(97% pending, 2% done, 1% dead-lettered), `--breakers` breakers of 10 other processes in the shared
store, and `--days` of usage ledger (hourly rollups for 20 teams x 5 models, minute buckets for
the last 25 hours) under a daily quota. Then `serve` runs on a free loopback port and each
endpoint gets `--calls` requests from `--connections` keep-alive connections at once; `report
--hours` is timed as a command. Not a CI test: it takes a minute and needs a release build.

With `--redis` the queue is in a private `redis-server` on a free port instead (filled through
`redis-cli --pipe` with the keys `RedisQueue` writes); breakers then live in Redis too, and the
breaker row measures this process's own only.
"""

import argparse
import http.client
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

TEAMS = [f"team-{i:02}" for i in range(20)]
MODELS = ["gpt-4", "gpt-4o", "claude-3", "claude-3-haiku", "llama-3"]


def config_text(data_dir, redis_url=None):
    redis = f"redis_url = {json.dumps(redis_url)}\nredis_prefix = \"bench\"\n" if redis_url else ""
    return f"""
[storage]
data_dir = {json.dumps(data_dir)}
retention = "30d"
{redis}[server]
bind = "127.0.0.1:0"
token = "bench-token-0123456789abcdef"
[health]
default_checks = false
[breakers]
stale_after = "1h"
drop_after = "1d"
[[models.quotas]]
team = "*"
model = "gpt-4"
window = "day"
tokens = 100000000
"""


def fill_queue(path, n):
    now_ns = time.time_ns()
    db = sqlite3.connect(path)
    statuses = ["pending"] * 97 + ["done"] * 2 + ["dead_lettered"]
    context = json.dumps({"team_name": "sales", "model": "gpt-4", "priority": "normal", "tags": {}})

    def rows():
        for i in range(n):
            status = statuses[i % 100]
            error = "provider down" if status == "dead_lettered" else None
            result = '{"ok":true}' if status == "done" else None
            payload = json.dumps({"prompt": f"summarize document {i}", "max_tokens": 256})
            yield ("llm", payload, context, status, 1 if error else 0, 5, now_ns, now_ns, error, result)

    db.executemany(
        "INSERT INTO queue (handler, payload, context, status, attempts, max_attempts, enqueued_at, "
        "not_before, last_error, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows(),
    )
    db.commit()
    db.close()


def resp(*args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def fill_redis_queue(port, n, prefix="bench:queue"):
    """The keys of `RedisQueue`: `req:ID`, the `all`, `open` and `status:S` sets, `seq`, `indexed`."""
    now = time.time_ns()
    at = {"secs_since_epoch": now // 10**9, "nanos_since_epoch": now % 10**9}
    statuses = ["pending"] * 97 + ["done"] * 2 + ["dead_lettered"]
    context = {"team_name": "sales", "model": "gpt-4", "priority": "normal", "tags": {}}
    pipe = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    chunk = []
    for i in range(1, n + 1):
        status = statuses[i % 100]
        req = {"ticket": f"rq-{i}", "handler": "llm",
               "payload": {"prompt": f"summarize document {i}", "max_tokens": 256}, "context": context,
               "status": status, "attempts": 1 if status == "dead_lettered" else 0, "max_attempts": 5,
               "enqueued_at": at, "not_before": at, "lease_until": None,
               "last_error": "provider down" if status == "dead_lettered" else None,
               "result": {"ok": True} if status == "done" else None}
        chunk.append(resp("SET", f"{prefix}:req:{i}", json.dumps(req, separators=(",", ":"))))
        chunk.append(resp("ZADD", f"{prefix}:all", i, i))
        chunk.append(resp("ZADD", f"{prefix}:status:{status}", i, i))
        if status == "pending":
            chunk.append(resp("ZADD", f"{prefix}:open", i, i))
        if len(chunk) > 20000:
            pipe.stdin.write(b"".join(chunk))
            chunk = []
    chunk += [resp("SET", f"{prefix}:seq", n), resp("SET", f"{prefix}:indexed", 1)]
    pipe.stdin.write(b"".join(chunk))
    pipe.stdin.close()
    if pipe.wait() != 0:
        raise SystemExit("redis-cli --pipe failed")


def private_redis(work):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", work], stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if "Ready to accept connections" in line:
            return proc, port
    raise SystemExit("redis-server did not start")


def fill_breakers(path, n):
    now_ns = time.time_ns()
    db = sqlite3.connect(path)
    rows = []
    for i in range(n):
        owner = f"bench-host:{1000 + i % 10}:0"
        name = f"breaker-{i:05}"
        stats = {"name": name, "state": "closed", "total_calls": 1000 + i, "successful_calls": 990,
                 "failed_calls": 10, "rejected_calls": 0, "ignored_calls": 0, "slow_calls": 0,
                 "success_rate": 0.99, "consecutive_failures": 0, "time_in_state": {"secs": 60, "nanos": 0},
                 "transitions": 2}
        rows.append((owner, name, 1000 + i % 10, "bench-host", "closed", json.dumps(stats), now_ns))
    db.executemany("INSERT OR REPLACE INTO breakers (owner, name, pid, host, state, stats, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def fill_ledger(path, days):
    now = int(time.time())
    db = sqlite3.connect(path)
    hour0 = now // 3600 * 3600 - days * 86400
    hours = ((t, m, h, random.randint(1000, 90000), random.randint(1, 60))
             for h in range(hour0, now + 1, 3600) for t in TEAMS for m in MODELS)
    db.executemany("INSERT OR REPLACE INTO usage_hour (team, model, bucket, tokens, requests) VALUES (?,?,?,?,?)", hours)
    minute0 = now // 60 * 60 - 25 * 3600
    minutes = ((t, m, b, random.randint(10, 2000), random.randint(1, 3))
               for b in range(minute0, now + 1, 60) for t in TEAMS for m in MODELS)
    db.executemany("INSERT OR REPLACE INTO usage_minute (team, model, bucket, tokens, requests) VALUES (?,?,?,?,?)", minutes)
    db.commit()
    db.close()


def count(path, table):
    db = sqlite3.connect(path)
    (n,) = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    db.close()
    return n


def measure(host, port, path, connections, calls, headers=None):
    """Latencies (ms) of `calls` GETs of `path` spread over `connections` keep-alive connections."""
    latencies, errors, lock = [], [], threading.Lock()
    per = [calls // connections + (1 if i < calls % connections else 0) for i in range(connections)]
    start = threading.Barrier(connections)

    def worker(k):
        conn = http.client.HTTPConnection(host, port, timeout=60)
        mine = []
        start.wait()
        for _ in range(k):
            t = time.perf_counter()
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            body = response.read()
            mine.append((time.perf_counter() - t) * 1000)
            if response.status != 200:
                with lock:
                    errors.append(f"{response.status} {body[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in per]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"{path}: {len(errors)} failed, first: {errors[0]}")
    return latencies, elapsed


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def wait_for_address(proc, deadline_s=120):
    """The address `serve` prints once it listens."""
    result = {}

    def read():
        for line in proc.stdout:
            if "listening on http://" in line:
                result["addr"] = line.strip().rsplit("http://", 1)[1]
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(deadline_s)
    if "addr" not in result:
        proc.kill()
        raise SystemExit("serve did not say where it listens")
    host, port = result["addr"].rsplit(":", 1)
    return host, int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/elf-resilience")
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--breakers", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--redis", action="store_true", help="the queue in a private redis-server")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="elf-bench-")
    data = os.path.join(work, "data")
    cfg = os.path.join(work, "bench.toml")
    redis, redis_url = None, None
    if args.redis:
        redis, port = private_redis(work)
        redis_url = f"redis://127.0.0.1:{port}"
    with open(cfg, "w") as f:
        f.write(config_text(data, redis_url))
    env = dict(os.environ, RUST_LOG="warn")
    # Any command that opens the stores creates their schema.
    subprocess.run([args.bin, "--config", cfg, "queue", "list", "--limit", "1"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    subprocess.run([args.bin, "--config", cfg, "report", "--hours", "1"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    fills = [("usage.db", lambda p: fill_ledger(p, args.days), "usage_hour")]
    if redis:
        t = time.perf_counter()
        fill_redis_queue(port, args.requests)
        print(f"filled redis: {args.requests} requests in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    else:
        fills += [("queue.db", lambda p: fill_queue(p, args.requests), "queue"),
                  ("breakers.db", lambda p: fill_breakers(p, args.breakers), "breakers")]
    for name, fill, table in fills:
        t = time.perf_counter()
        fill(os.path.join(data, name))
        rows = count(os.path.join(data, name), table)
        print(f"filled {name}: {rows} rows in {table} in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    proc = subprocess.Popen([args.bin, "--config", cfg, "serve"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        host, port = wait_for_address(proc)
        mid = f"{'rq' if redis else 'sq'}-{args.requests // 2}"
        token = {"Authorization": "Bearer bench-token-0123456789abcdef"}
        endpoints = [
            ("/api/queue", None),
            ("/api/queue?status=dead_lettered", None),
            (f"/api/queue?after={mid}&limit=1000", None),
            ("/api/queue?status=done&limit=100", token),
            ("/api/breakers", None),
            ("/api/resources", None),
        ]
        rows = []
        for path, headers in endpoints:
            measure(host, port, path, args.connections, args.connections)  # warm up
            lat, elapsed = measure(host, port, path, args.connections, args.calls, headers)
            label = path + (" (token)" if headers else "")
            rows.append((label, pct(lat, 50), pct(lat, 99), max(lat), len(lat) / elapsed))
        report = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([args.bin, "--config", cfg, "report", "--hours", str(args.days * 24), "--json"],
                           check=True, env=env, stdout=subprocess.DEVNULL)
            report.append((time.perf_counter() - t) * 1000)
    finally:
        proc.terminate()
        proc.wait(30)
        if redis:
            redis.terminate()
            redis.wait(30)
    where = "in Redis, the breakers this process's own" if redis else f"in SQLite, {args.breakers} shared breakers"
    print(f"\n{args.requests} queued requests {where}, {args.days} days of ledger; "
          f"{args.connections} connections, {args.calls} calls per endpoint\n")
    print(f"| {'endpoint':44} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7} | {'req/s':>7} |")
    print(f"|{'-' * 46}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
    for label, p50, p99, top, rps in rows:
        print(f"| {label:44} | {p50:7.1f} | {p99:7.1f} | {top:7.1f} | {rps:7.0f} |")
    label = f"report --hours {args.days * 24} (command, 5 runs)"
    print(f"| {label:44} | {pct(report, 50):7.1f} | {'':>7} | {max(report):7.1f} | {'':>7} |")
    if not args.keep:
        subprocess.run(["rm", "-rf", work])
    else:
        print(f"\ndata kept in {work}", file=sys.stderr)


if __name__ == "__main__":
    main()

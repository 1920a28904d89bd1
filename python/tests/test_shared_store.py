"""connect(): a Python process's breakers and usage, seen by the real `elf-resilience` binary.

A child Python process connects to a data directory (or Redis), opens a breaker and records
usage; the binary then serves that data directory and lists them. The binary is
`$ELF_RESILIENCE_BIN`, else the workspace's debug build (built here with cargo when missing).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

import elf_resilience as er

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-python-0123456789"

# The child: connects, opens a breaker, records usage, then answers commands on stdin.
CHILD = textwrap.dedent(
    """
    import json, sys
    import elf_resilience as er

    cfg = json.loads(sys.argv[1])
    store = er.connect(cfg["data_dir"], redis_url=cfg.get("redis_url"),
                       redis_prefix=cfg.get("redis_prefix", "elf-resilience"), publish_interval=3600)
    cb = er.CircuitBreaker(name="py-openai", failure_threshold=2, recovery_timeout=600)
    for _ in range(2):
        try:
            cb.call(lambda: 1 / 0)
        except ZeroDivisionError:
            pass
    rm = er.ResourceManager(default_probes=False, refresh=False)
    rm.record_usage(er.ResourceType.API_QUOTA, 1200, {"team_name": "research", "model": "gpt-4"})
    rm.record_usage(er.ResourceType.API_QUOTA, 300, {"team_name": "research", "model": "gpt-4"})
    store.flush()
    store.publish()
    print(json.dumps({"owner": store.owner_id, "state": cb.state}), flush=True)
    for line in sys.stdin:
        if line.strip() == "publish":
            tick = store.publish()
            print(json.dumps({"tick": tick, "state": cb.state}), flush=True)
    store.close()
    print(json.dumps({"closed": True}), flush=True)
    """
)


def _binary() -> Path:
    given = os.environ.get("ELF_RESILIENCE_BIN")
    if given:
        return Path(given)
    if shutil.which("cargo") is None:
        pytest.skip("no elf-resilience binary: set ELF_RESILIENCE_BIN or install cargo")
    build = ["cargo", "build", "-q", "-p", "elf-resilience-server", "--bin", "elf-resilience"]
    subprocess.run(build, cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    return target / "debug" / "elf-resilience"


@pytest.fixture(scope="module")
def binary() -> Path:
    return _binary()


def _config(tmp: Path, data: Path, storage: str = "") -> Path:
    path = tmp / "elf-resilience.toml"
    path.write_text(
        f'[storage]\ndata_dir = "{data}"\n{storage}'
        f'[server]\nbind = "127.0.0.1:0"\ntoken = "{TOKEN}"\n[health]\ndefault_checks = false\n'
    )
    return path


def _env() -> dict:
    env = dict(os.environ)
    for var in ("ELF_RESILIENCE_CONFIG", "ELF_RESILIENCE_TOKEN", "RUST_LOG"):
        env.pop(var, None)
    return env


class Child:
    """The Python process that connects, over pipes."""

    def __init__(self, cfg: dict) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"the child exited with {self.proc.wait()}"
        return json.loads(line)

    def send(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> dict:
        self.proc.stdin.close()
        seen = self.read()
        assert self.proc.wait(timeout=30) == 0
        return seen


class Server:
    """`elf-resilience serve` on a free loopback port."""

    def __init__(self, binary: Path, config: Path) -> None:
        self.proc = subprocess.Popen(
            [str(binary), "--config", str(config), "serve", "--bind", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_env(),
            text=True,
        )
        first = self.proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in first, first
        self.base = first.rsplit(" ", 1)[-1].strip()

    def get(self, path: str):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.load(r)

    def post(self, path: str) -> int:
        req = urllib.request.Request(
            self.base + path, method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _python_breakers(server: Server, owner: str) -> list:
    return [b for b in server.get("/api/breakers") if b["name"] == "py-openai" and b["owner"]["id"] == owner]


def _report(binary: Path, config: Path) -> list:
    out = subprocess.run(
        [str(binary), "--config", str(config), "report", "--json"],
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)["usage"]


def _shared_with_binary(binary: Path, tmp: Path, cfg: dict, storage: str = "") -> None:
    """The child's breaker in `/api/breakers`, reset from the dashboard; its usage in `report`."""
    config = _config(tmp, Path(cfg["data_dir"]), storage)
    child = Child(cfg)
    try:
        first = child.read()
        assert first["state"] == "OPEN"
        server = Server(binary, config)
        try:
            [listed] = _python_breakers(server, first["owner"])
            assert listed["state"] == "open" and listed["failed_calls"] == 2
            assert listed["local"] is False and listed["stale"] is False
            assert listed["owner"]["pid"] == child.proc.pid
            # The dashboard resets it; the Python process applies that on its next publish.
            assert server.post(f"/api/breakers/py-openai/reset?owner={first['owner']}") == 202
            after = child.send("publish")
            assert after["tick"]["applied"] == 1 and after["state"] == "CLOSED"
            assert _python_breakers(server, first["owner"])[0]["state"] == "closed"
            assert child.close() == {"closed": True}
            assert _python_breakers(server, first["owner"]) == [], "close() withdraws the breakers"
        finally:
            server.stop()
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
    usage = _report(binary, config)
    assert [(u["team"], u["model"], u["tokens"], u["requests"]) for u in usage] == [
        ("research", "gpt-4", 1500, 2)
    ]


def test_serve_and_report_see_a_python_process_over_the_data_dir(binary, tmp_path):
    _shared_with_binary(binary, tmp_path, {"data_dir": str(tmp_path / "data")})


def test_serve_and_report_see_a_python_process_over_redis(binary, tmp_path):
    url = os.environ.get("ELF_TEST_REDIS_URL")
    if not url:
        print("skipping: ELF_TEST_REDIS_URL is not set")
        pytest.skip("ELF_TEST_REDIS_URL is not set")
    prefix = f"elf-test:python:{os.getpid()}:{uuid.uuid4().hex}"
    cfg = {"data_dir": str(tmp_path / "data"), "redis_url": url, "redis_prefix": prefix}
    storage = f'redis_url = "{url}"\nredis_prefix = "{prefix}"\n'
    _shared_with_binary(binary, tmp_path, cfg, storage)
    assert not (tmp_path / "data" / "breakers.db").exists(), "the breakers went to Redis"


def test_a_resource_manager_reports_the_ledgers_usage(tmp_path):
    with er.connect(tmp_path / "data", publish_interval=3600) as store:
        assert er.current_store() is store and store.backend == "sqlite"
        rm = er.ResourceManager(default_probes=False, refresh=False)
        rm.record_usage(er.ResourceType.API_QUOTA, 700, {"team_name": "ops", "model": "gpt-4o"})
        store.flush()
        report = rm.get_resource_report(1)
        assert report["usage_by_team"] == {"ops": 700.0}
        assert report["usage_by_model"] == {"gpt-4o": 700.0}
    assert er.current_store() is None
    assert (tmp_path / "data" / "usage.db").exists()


def test_connect_without_a_store_is_a_value_error():
    with pytest.raises(ValueError, match="data_dir, a redis_url or both"):
        er.connect()
    with pytest.raises(ValueError, match="publish_interval"):
        er.connect("unused", publish_interval=0)


def test_an_unreachable_redis_is_a_store_error(tmp_path):
    started = time.monotonic()
    with pytest.raises(er.StoreError, match="Redis"):
        er.connect(tmp_path / "data", redis_url="redis://127.0.0.1:1")
    assert time.monotonic() - started < 30
    assert er.current_store() is None


def _wait_exit(pid: int, timeout: float = 30) -> int:
    """Waits for the child; a watchdog kills it if it hangs past `timeout`."""
    watchdog = threading.Timer(timeout, os.kill, (pid, signal.SIGKILL))
    watchdog.start()
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        watchdog.cancel()
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        raise AssertionError("the forked child hung")
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_leaves_the_parents_breakers_and_ledger_alone(tmp_path):
    import sqlite3

    data = tmp_path / "data"
    with er.connect(data, publish_interval=3600) as store:
        er.CircuitBreaker(name="fork-shared")
        rm = er.ResourceManager(default_probes=False, refresh=False)
        rm.record_usage(er.ResourceType.API_QUOTA, 100, {"team_name": "parent", "model": "m"})
        store.publish()
        pid = os.fork()
        if pid == 0:  # the child: no writer thread of its own for the parent's ledger
            code = 1
            try:
                rm.record_usage(er.ResourceType.API_QUOTA, 5, {"team_name": "child", "model": "m"})
                store.close()
                code = 0
            finally:
                os._exit(code)
        assert _wait_exit(pid) == 0
        with sqlite3.connect(data / "breakers.db") as db:
            owners = db.execute("SELECT owner FROM breakers WHERE name = 'fork-shared'").fetchall()
        assert owners == [(store.owner_id,)], "the child's close() withdrew nothing"
        store.flush()
        assert rm.get_resource_report(1)["usage_by_team"] == {"parent": 100.0}

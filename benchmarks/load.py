"""flowdesk under load: `nox -s load`.

For SQLite and PostgreSQL (the embedded server): a migrated database holding FLOWS flows with
RUNS_PER_FLOW runs each, `flowdesk server start` in its own process, exactly as a user starts
it, then for SECONDS at once:

* CLIENTS concurrent clients (each on a connection of its own, in a second process), each
  sending its next request as soon as the last is answered: a mix of the UI's reads and a
  worker's log writes (MIX);
* a third process timing `GET /api/health` every HEALTH_EVERY seconds, as an orchestrator's
  probe would.

Afterwards the server is stopped with SIGTERM. The figures go to BENCHMARKS.md; the session
fails on any 5xx, any request that got no answer, any health answer that was not 200 or took
HEALTH_LIMIT or longer, or a server log holding a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import httpx

from benchmarks.report import machine, write_section
from contribkit.databases.throwaway import ephemeral_database

CLIENTS = 500
SECONDS = 30.0
HEALTH_EVERY = 0.1
HEALTH_LIMIT = 0.1
FLOWS = 20
RUNS_PER_FLOW = 10
#: (weight, method, path): ``{flow}`` and ``{run}`` are drawn from the seeded rows.
MIX = [
    (40, "GET", "/api/flows"),
    (25, "GET", "/api/flow_runs?flow_id={flow}"),
    (20, "GET", "/api/flow_runs/{run}"),
    (10, "GET", "/api/flow_runs/counts"),
    (5, "POST", "/api/flow_runs/{run}/logs"),
]
DIALECTS = ("sqlite", "postgresql")
FLOWDESK = Path(sys.executable).with_name("flowdesk")
HOST = "127.0.0.1"
ANSWER_SECONDS = 60.0  # a request unanswered by then counts as unanswered


@dataclass
class Load:
    """What the clients saw: one latency per answered request."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # no answer, by exception

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)


@dataclass
class Trial:
    dialect: str
    load: Load
    health: Load
    log_problems: list[str]

    def problems(self) -> list[str]:
        found = [f"{self.load.server_errors} answers were 5xx"] if self.load.server_errors else []
        found += [f"{n} requests got no answer ({kind})" for kind, n in self.load.failures.items()]
        slow = sum(1 for seconds in self.health.latencies if seconds >= HEALTH_LIMIT)
        if slow:
            found.append(f"{slow} health answers took {HEALTH_LIMIT * 1000:.0f} ms or more")
        bad = sum(n for code, n in self.health.statuses.items() if code != 200)
        bad += sum(self.health.failures.values())
        if bad:
            found.append(f"{bad} health probes were not answered 200")
        return found + self.log_problems


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def seed(base: str) -> tuple[list[str], list[str]]:
    """FLOWS flows with RUNS_PER_FLOW runs each, through the API; their ids."""
    flows, runs = [], []
    with httpx.Client(base_url=base, timeout=30) as client:
        for n in range(FLOWS):
            flow = client.post("/api/flows", json={"name": f"load-{n}"}).raise_for_status().json()
            flows.append(flow["id"])
            for _ in range(RUNS_PER_FLOW):
                run = client.post("/api/flow_runs", json={"flow_id": flow["id"]})
                runs.append(run.raise_for_status().json()["id"])
    return flows, runs


def drive(base: str, flows: list[str], runs: list[str], start_at: float) -> Load:
    """CLIENTS clients, from ``start_at`` (a time.time()) for SECONDS; in its own process."""
    return asyncio.run(_drive(base, flows, runs, start_at))


async def _drive(base: str, flows: list[str], runs: list[str], start_at: float) -> Load:
    load = Load()
    weights = [weight for weight, _, _ in MIX]
    url = httpx.URL(base)
    body = json.dumps([{"level": 20, "message": "under load"}]).encode()

    async def client(rng: random.Random, end: float) -> None:
        reader, writer = await asyncio.open_connection(url.host, url.port)
        try:
            while time.monotonic() < end:
                _, method, path = rng.choices(MIX, weights)[0]
                path = path.format(flow=rng.choice(flows), run=rng.choice(runs))
                started = time.monotonic()
                try:
                    answer = exchange(reader, writer, method, path, body)
                    status = await asyncio.wait_for(answer, ANSWER_SECONDS)
                except (
                    OSError,
                    asyncio.TimeoutError,
                    asyncio.IncompleteReadError,
                    ValueError,
                ) as exc:
                    load.failures[type(exc).__name__] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(url.host, url.port)
                    continue
                load.latencies.append(time.monotonic() - started)
                load.statuses[status] += 1
        finally:
            writer.close()

    await asyncio.sleep(max(0.0, start_at - time.time()))
    end = time.monotonic() + SECONDS
    await asyncio.gather(*(client(random.Random(n), end) for n in range(CLIENTS)))
    return load


async def exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: str,
    path: str,
    body: bytes,
) -> int:
    """One HTTP/1.1 request on a kept-alive connection; the answer's status, its body read.

    Written out rather than through httpx, whose per-request cost on the clients' side capped
    the load at a few dozen requests a second on this machine's two cores.
    """
    sent = body if method == "POST" else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(sent)}\r\n"
    if sent:
        head += "Content-Type: application/json\r\n"
    writer.write(head.encode() + b"\r\n" + sent)
    await writer.drain()
    status_line, *headers = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    fields = dict(h.split(":", 1) for h in headers if h)
    length = {k.lower(): v.strip() for k, v in fields.items()}.get("content-length")
    if length is None:
        raise ValueError(f"an answer without Content-Length: {status_line}")
    await reader.readexactly(int(length))
    return status


def probe(base: str, start_at: float) -> Load:
    """GET /api/health every HEALTH_EVERY seconds for SECONDS; in its own process."""
    health = Load()
    time.sleep(max(0.0, start_at - time.time()))
    end = time.monotonic() + SECONDS
    with httpx.Client(base_url=base, timeout=10) as client:
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                response = client.get("/api/health")
            except httpx.HTTPError as exc:
                health.failures[type(exc).__name__] += 1
            else:
                health.latencies.append(time.monotonic() - started)
                health.statuses[response.status_code] += 1
            time.sleep(max(0.0, started + HEALTH_EVERY - time.monotonic()))
    return health


def wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"flowdesk server start exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("flowdesk server start did not answer /api/health within 60 s")


def run_flowdesk(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(FLOWDESK), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"flowdesk {' '.join(args)} failed: {done.stderr.strip()}")


def trial(dialect: str) -> Trial:
    with ephemeral_database(dialect) as url, tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "FLOWDESK_DATABASE_URL": url}
        run_flowdesk(env, "server", "database", "upgrade", "-y")
        port = free_port()
        base = f"http://{HOST}:{port}"
        log = Path(scratch, "server.log")
        with log.open("wb") as sink:
            server = subprocess.Popen(
                [str(FLOWDESK), "server", "start", "--port", str(port)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        log_problems: list[str] = []
        try:
            wait_healthy(base, server)
            flows, runs = seed(base)
            print(f"  {dialect}: {CLIENTS} clients for {SECONDS:.0f} s …", flush=True)
            with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
                start_at = time.time() + 3  # both processes started and imported by then
                load = pool.submit(drive, base, flows, runs, start_at)
                health = pool.submit(probe, base, start_at)
                result = Trial(dialect, load.result(), health.result(), log_problems)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                log_problems.append("the server outlived SIGTERM by 30 s")
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            log_problems.append(f"the server log holds {text.count('Traceback')} tracebacks")
        if server.returncode != 0:
            log_problems.append(f"the server exited with {server.returncode} on SIGTERM")
        return result


def report(trials: list[Trial]) -> str:
    rows = []
    for t in trials:
        answered = len(t.load.latencies)
        ms = [s * 1000 for s in t.load.latencies]
        health_ms = [s * 1000 for s in t.health.latencies]
        verdict = "pass" if not t.problems() else "FAIL: " + "; ".join(t.problems())
        rows.append(
            f"| {t.dialect} | {answered} | {answered / SECONDS:.0f} | {t.load.server_errors} "
            f"| {sum(t.load.failures.values())} | {percentile(ms, 0.5):.0f} "
            f"| {percentile(ms, 0.99):.0f} | {len(health_ms)} | {percentile(health_ms, 0.5):.1f} "
            f"| {percentile(health_ms, 0.99):.1f} | {max(health_ms, default=float('nan')):.1f} "
            f"| {sum(1 for h in health_ms if h >= HEALTH_LIMIT * 1000)} | {verdict} |"
        )
    mix = ", ".join(f"{w}% {m} {p.split('?')[0]}" for w, m, p in MIX)
    return f"""## Load: flowdesk server start

Machine: {machine()}. `nox -s load`: {CLIENTS} concurrent clients (each on its own connection,
each sending its next request once the last is answered) for {SECONDS:.0f} s against
`flowdesk server start` on a database of {FLOWS} flows x {RUNS_PER_FLOW} runs; mix: {mix}.
A separate process times `GET /api/health` every {HEALTH_EVERY * 1000:.0f} ms throughout.
Clients, probe and server share the machine's cores. Target: zero 5xx, every request answered,
every health answer 200 in under {HEALTH_LIMIT * 1000:.0f} ms.

| database | answered | per s | 5xx | unanswered | p50 ms | p99 ms | health probes | health p50 ms | health p99 ms | health max ms | health ≥ {HEALTH_LIMIT * 1000:.0f} ms | verdict |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}
"""


def main() -> int:
    dialects = sys.argv[1:] or list(DIALECTS)
    trials = []
    for dialect in dialects:
        trials.append(trial(dialect))
        for problem in trials[-1].problems():
            print(f"  {dialect}: FAILED: {problem}", flush=True)
    path = write_section("load", report(trials))
    print(f"wrote {path}")
    return 1 if any(t.problems() for t in trials) else 0


if __name__ == "__main__":
    sys.exit(main())

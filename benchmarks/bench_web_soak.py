"""The web lab's memory under many distinct losses: the server's RSS as a class types new ones.

A lecture's page sends a new loss on nearly every keystroke, and each distinct loss is
parsed, differentiated and compiled. This starts ``gdlab serve`` in its own process on
127.0.0.1, warms it with one loss, then sends ``--losses`` distinct losses
``(b-K)^2 + 0.5*(c+K)^2`` (K = 1..N), each through /api/parse, /api/run and /api/sweep as
the page does, and reads the server process's resident memory (psutil) before, every
tenth of the way, and after. Baseline: the RSS after the warm-up loss, in the same run;
the figure to watch is the growth per distinct loss once the server's caches are full
(the lab keeps 64 parsed losses; what grows past that is not given back).

Bounded: at most ``--losses`` losses and ``--max-seconds`` of wall time, whichever
comes first; the server is stopped however the run ends.

Run: ``python benchmarks/bench_web_soak.py [--losses 2000] [--max-seconds 3600]``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import httpx
import psutil
from bench_web import free_port, start_server


def requests_for(k: int) -> list[tuple[str, dict]]:
    """What the page sends for one new loss: a parse, a run at two rates, a sweep."""
    text = f"(b-{k})^2+0.5*(c+{k})^2"
    start = {"b": 0.0, "c": 0.0}
    return [
        ("parse", {"expression": text}),
        ("run", {"expression": text, "start": start, "rates": [0.1, 0.5], "steps": 100, "tol": 1e-8}),
        ("sweep", {"expression": text, "start": start, "low": 0.01, "high": 3, "num": 20, "steps": 200}),
    ]


@dataclass
class Soak:
    """RSS samples (losses done, MB, seconds since the start) and the requests that failed."""

    samples: list[tuple[int, float, float]] = field(default_factory=list)
    errors: list[tuple[int, str, int]] = field(default_factory=list)

    def per_loss_kb(self, after: int = 0) -> float:
        """KB of growth per distinct loss from the first sample at or past ``after`` losses to the last."""
        first = next(s for s in self.samples if s[0] >= after)
        last = self.samples[-1]
        return (last[1] - first[1]) * 1024 / max(1, last[0] - first[0])


def send(client: httpx.Client, k: int, soak: Soak) -> None:
    for name, body in requests_for(k):
        status = client.post(f"/api/{name}", json=body).status_code
        if status != 200:
            soak.errors.append((k, name, status))


def soak_server(base: str, pid: int, losses: int, max_seconds: float) -> Soak:
    """Send ``losses`` distinct losses (or as many as ``max_seconds`` allow); sample the RSS of ``pid``."""
    server, soak = psutil.Process(pid), Soak()
    every = max(1, losses // 10)
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=120) as client:
        send(client, 0, soak)  # warm-up: the first loss compiles the code every later one shares
        soak.samples.append((0, server.memory_info().rss / 2**20, 0.0))
        for k in range(1, losses + 1):
            send(client, k, soak)
            elapsed = time.monotonic() - started
            if k % every == 0 or k == losses or elapsed > max_seconds:
                soak.samples.append((k, server.memory_info().rss / 2**20, elapsed))
            if elapsed > max_seconds:
                break
    return soak


def report(soak: Soak, cached: int) -> None:
    print(f"{'losses':>7} {'RSS MB':>8} {'seconds':>8}")
    for done, rss, seconds in soak.samples:
        print(f"{done:>7} {rss:>8.1f} {seconds:>8.1f}")
    done, rss, seconds = soak.samples[-1]
    start_rss = soak.samples[0][1]
    print(
        f"{done} distinct losses ({3 * done} requests, {len(soak.errors)} failed) in {seconds:.0f} s: "
        f"RSS {start_rss:.0f} MB after the warm-up, {rss:.0f} MB after; "
        f"{soak.per_loss_kb():.0f} KB per loss overall"
        + (f", {soak.per_loss_kb(cached):.0f} KB per loss past the {cached} cached" if done > cached else "")
    )
    if soak.errors:
        print("failed:", soak.errors[:10])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args()
    from gdlab.web._models import WebLimits

    port = free_port()
    server = start_server(port)
    try:
        soak = soak_server(f"http://127.0.0.1:{port}", server.pid, args.losses, args.max_seconds)
    finally:
        server.terminate()
        server.wait(10)
    report(soak, WebLimits().cached_expressions)


if __name__ == "__main__":
    main()

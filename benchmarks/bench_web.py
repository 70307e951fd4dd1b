"""The web lab over HTTP on loopback: latency of a run and of a sweep, then a bounded load test.

The server runs in its own process (uvicorn, as ``gdlab serve`` runs it); the clients
are threads of this one. Baseline, timed in this run: the same computations called
in-process (``gdlab.web._compute.Lab``), without HTTP, so the difference is what the
server adds. Latency is the median (and 95th percentile) of ``--repeats`` requests after
a warm-up. The load test sends ``--requests`` requests from ``--clients`` concurrent
clients (40% parse, 40% run, 20% sweep) and reports errors, throughput and latency.

``--page`` instead times the page in a real browser (Playwright and Chromium, as
``tests/test_web_browser.py`` launches it), on this tree's server and on a baseline tree's
(``--baseline``: a ``src`` folder, and ``--baseline-python``), each warm: the first picture
after the page's load event (the runs' table and the picture both drawn), and a one-parameter
loss typed key by key, redrawn after its last keystroke (the table showing the typed loss's runs).

``--stages`` instead times, in-process, where a new one-parameter loss's answer goes on the server
(``/api/descent`` as the page sends it, stage by stage: parse, start, runs, landscape, JSON), on
this tree and on the baseline tree (in a process of its own), each warm, a new loss per repeat.

``--calibrate`` instead times a table of runs, sweeps and landscapes in-process (light and
heavy losses, with and without data) against the cost the server estimates for them
(:mod:`gdlab.web._cost`), and prints measured / estimated. Near 1 (0.3 to 3) means the
per-unit costs in ``UnitCosts`` fit this machine; light sweeps price high (0.1), which
refuses only the largest of them; far above 1, measure the costs again.

Run: ``python benchmarks/bench_web.py [--repeats 50] [--clients 20] [--requests 1000] [--calibrate]``,
or ``python benchmarks/bench_web.py --page [--repeats 7] [--baseline /work/main/src]``, or ``--stages``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import httpx

RUN = {"expression": "(b/2-1)^2", "start": {"b": -10}, "rates": [0.01 / 6], "steps": 1000}
SWEEP = {"expression": "(b/2-1)^2", "start": {"b": -10}, "low": 1e-3, "high": 10, "num": 50, "steps": 1000}
PARSE = {"expression": "sum((y - b0 - b1*x)^2)", "data": "cafe"}
MIX = [("parse", PARSE)] * 2 + [("run", RUN)] * 2 + [("sweep", SWEEP)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, python: str = sys.executable, path: str | None = None) -> subprocess.Popen[bytes]:
    """``gdlab.web.serve`` in its own process: this interpreter and tree, or ``python`` with ``path``."""
    command = [python, "-c", f"import gdlab.web as w; w.serve(port={port})"]
    env = {**os.environ, "GDLAB_NO_CACHE": "1"}
    if path is not None:
        env["PYTHONPATH"] = path
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(work: Callable[[], object], repeats: int) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``work``, after three warm-up calls."""
    for _ in range(3):
        work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def latency(client: httpx.Client, name: str, body: dict, repeats: int) -> list[float]:
    return timed(lambda: client.post(f"/api/{name}", json=body).raise_for_status(), repeats)


def in_process(repeats: int) -> tuple[float, float]:
    from gdlab.web._compute import Lab
    from gdlab.web._models import RunIn, SweepIn

    lab, run, sweep = Lab(), RunIn.model_validate(RUN), SweepIn.model_validate(SWEEP)
    return (
        statistics.median(timed(lambda: lab.run(run), repeats)),
        statistics.median(timed(lambda: lab.sweep(sweep), repeats)),
    )


def _sines(n: int) -> str:
    return "sum((y - b0 - " + " - ".join(f"sin(b{i}*x/10)" for i in range(1, n)) + ")^2)"


def _start(names: int) -> dict[str, float]:
    return {f"b{i}": 0.25 for i in range(names)}


SQUARES = " + ".join(f"(b{i}-{i})^2" for i in range(20))
# (what, endpoint, request): each about a second here; no tolerance, so every run takes every step.
CALIBRATION: list[tuple[str, str, dict]] = [
    ("run: lecture, 12 rates x 20,000", "run", {**RUN, "rates": [1e-4] * 12, "steps": 20_000}),
    (
        "run: 20 parameters, 2 rates x 5,000",
        "run",
        {"expression": SQUARES, "start": _start(20), "rates": [1e-3, 2e-3], "steps": 5000},
    ),
    (
        "run: cafe, 3 rates x 20,000",
        "run",
        {**PARSE, "start": {"b0": 9, "b1": 2}, "rates": [1e-4] * 3, "steps": 20_000},
    ),
    (
        "run: 12 sines on cafe, 1 rate x 1,000",
        "run",
        {"expression": _sines(12), "data": "cafe", "start": _start(12), "rates": [1e-5], "steps": 1000},
    ),
    ("sweep: lecture, 400 rates x 20,000", "sweep", {**SWEEP, "num": 400, "steps": 20_000}),
    (
        "sweep: 20 parameters, 400 rates x 2,000",
        "sweep",
        {"expression": SQUARES, "start": _start(20), "low": 1e-4, "high": 0.1, "num": 400, "steps": 2000},
    ),
    (
        "sweep: cafe, 400 rates x 5,000",
        "sweep",
        {**PARSE, "start": {"b0": 9, "b1": 2}, "low": 1e-6, "high": 1e-4, "num": 400, "steps": 5000},
    ),
    (
        "sweep: 6 sines on cafe, 400 rates x 200",
        "sweep",
        {
            "expression": _sines(6),
            "data": "cafe",
            "start": _start(6),
            "low": 1e-6,
            "high": 1e-4,
            "num": 400,
            "steps": 200,
        },
    ),
    (
        "sweep: 12 sines on cafe, 400 rates x 50",
        "sweep",
        {
            "expression": _sines(12),
            "data": "cafe",
            "start": _start(12),
            "low": 1e-6,
            "high": 1e-4,
            "num": 400,
            "steps": 50,
        },
    ),
]


def _seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def calibrate() -> None:
    """Measured against estimated seconds for each case of :data:`CALIBRATION`, warm (compiled)."""
    from gdlab.web._compute import Lab
    from gdlab.web._cost import Shape
    from gdlab.web._models import RunIn, SweepIn, WebLimits

    lab = Lab(WebLimits(work_seconds=float("inf"), kept_numbers=10**12, answer_numbers=10**9))
    costs = lab.limits.costs
    print(f"{'what':<44} {'measured':>9} {'estimated':>10} {'ratio':>6}")
    for what, endpoint, body in CALIBRATION:
        model = RunIn if endpoint == "run" else SweepIn
        request = model.model_validate({**body, "tol": None})
        call = lab.run if endpoint == "run" else lab.sweep
        out = call(request)  # compiles
        measured = min(_seconds(lambda c=call, r=request: c(r)) for _ in range(2))  # type: ignore[misc]
        shape = Shape.of(lab.expression(request.expression, request.data))
        # Priced by the steps actually taken: a run that stops early costs less than its request.
        taken = [int(r["steps"]) for r in out["runs"]]  # type: ignore[attr-defined]
        steps = sum(taken) if endpoint == "run" else len(taken) * max(taken)  # a sweep runs to its last
        estimated = steps * (shape.run_step(costs) if endpoint == "run" else shape.sweep_step(costs))
        print(f"{what:<44} {measured:>8.2f}s {estimated:>9.2f}s {measured / estimated:>6.2f}")


def load(base: str, clients: int, requests: int) -> dict[str, float]:
    def one_client(count: int, offset: int) -> list[tuple[float, int]]:
        done = []
        with httpx.Client(base_url=base, timeout=60) as client:
            for i in range(count):
                name, body = MIX[(i + offset) % len(MIX)]
                start = time.perf_counter()
                try:
                    status = client.post(f"/api/{name}", json=body).status_code
                except httpx.TransportError:  # counted as an error, not hidden
                    status = 0
                done.append((time.perf_counter() - start, status))
        return done

    shares = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = [
            r for f in [pool.submit(one_client, n, i) for i, n in enumerate(shares)] for r in f.result()
        ]
    wall = time.perf_counter() - start
    times = [t for t, _ in results]
    return {
        "requests": len(results),
        "errors": sum(1 for _, s in results if s != 200),
        "wall": wall,
        "throughput": len(results) / wall,
        "p50": percentile(times, 0.5),
        "p95": percentile(times, 0.95),
    }


# The page's clock: when the runs' table changed, with the runs it then showed (set before any script runs).
WATCH = """
window.__changes = [];
window.__keys = [];
document.addEventListener("keydown", () => window.__keys.push(performance.now()), true);
new MutationObserver(() => {
  const table = document.querySelector('[data-testid="runs"] tbody');
  const plot = document.querySelector('[data-testid="plot"] .main-svg');
  // The runs' messages name their losses: they change with the runs drawn, not with the animation.
  const said = [...document.querySelectorAll('[data-testid="runs"] .lab-message')].map((m) => m.innerText);
  if (table && plot) window.__changes.push([performance.now(), said.join("|")]);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""
PAGE_QUERY = "/?e=(b%2F2-1)%5E2&s=b:-10&r=0.5,2,4.5&n=60&t=1e-8&lang=en"
TYPED = ["(b/3-1)^2", "(b/5-2)^2", "(b/7-1)^4", "(b/4+1)^2", "(b/6-3)^2", "(b/9-1)^2", "(b/8+2)^2"]


def first_picture(page, base: str) -> float:
    """Seconds from the page's load event to its first picture (the runs' table and the plot drawn)."""
    page.goto(base + PAGE_QUERY, wait_until="load")
    page.wait_for_function("window.__changes.length > 0", timeout=60_000)
    return page.evaluate(
        "(window.__changes[0][0] - performance.getEntriesByType('navigation')[0].loadEventEnd) / 1000"
    )


def typed_redraw(page, base: str, text: str) -> float:
    """Seconds from the last keystroke of ``text`` (typed key by key) to the table showing its runs."""
    first_picture(page, base)
    page.wait_for_timeout(300)  # the first run's animation under way, as a person would start typing
    box = page.get_by_test_id("expression")
    box.click()
    box.press("Control+a")
    box.press("Backspace")
    page.keyboard.type(text, delay=60)
    page.wait_for_timeout(4000)  # whatever the page does with the keystrokes is done by now
    changes, keys = page.evaluate("[window.__changes, window.__keys]")
    last_key = keys[-1]
    final = changes[-1][1]
    redrawn = next(t for t, shown in changes if t > last_key and shown == final)
    return (redrawn - last_key) / 1000


def page_times(repeats: int, baseline: str, baseline_python: str) -> None:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("GDLAB_CHROMIUM") or "/usr/bin/chromium"
    trees = {"this tree": (sys.executable, None), "baseline": (baseline_python, baseline)}
    rows: dict[str, dict[str, float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for name, (python, path) in trees.items():
            port = free_port()
            server = start_server(port, python, path)
            base = f"http://127.0.0.1:{port}"
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 720}, bypass_csp=True)
                context.add_init_script(WATCH)
                page = context.new_page()
                for _ in range(3):  # warm: the lecture's loss compiled, plotly.js cached
                    first_picture(page, base)
                loads = [first_picture(page, base) for _ in range(repeats)]
                typed = [typed_redraw(page, base, TYPED[i % len(TYPED)]) for i in range(repeats)]
                context.close()
            finally:
                server.terminate()
                server.wait(10)
            rows[name] = {"load": statistics.median(loads), "typed": statistics.median(typed)}
        browser.close()
    ms = 1000
    print(f"the page in Chromium, warm servers, medians of {repeats}")
    print(f"{'what':<52} {'this tree':>10} {'baseline':>10} {'ratio':>6}")
    for key, what in [
        ("load", "first picture after the load event"),
        ("typed", "a new one-parameter loss redrawn after its last key"),
    ]:
        mine, theirs = rows["this tree"][key], rows["baseline"][key]
        print(f"{what:<52} {mine * ms:>8.0f}ms {theirs * ms:>8.0f}ms {mine / theirs:>6.2f}")


STAGE_BODY = {"start": {"b": -10}, "rates": "0.5,2,4.5", "steps": 60, "tol": 1e-8, "points": 1000}


def stages_here(repeats: int) -> dict[str, list[float]]:
    """Seconds of each stage of ``/api/descent`` for ``repeats`` new losses, in this process."""
    import json

    from gdlab.web._compute import Lab
    from gdlab.web._models import DescentIn, LandscapeIn

    lab = Lab()
    for k in range(3):  # warm: the lecture's loss and two others answered
        lab.descent(DescentIn.model_validate({**STAGE_BODY, "expression": f"(b/{k + 2}-1)^2"}))
    times: dict[str, list[float]] = {
        s: [] for s in ("parse", "start", "runs", "landscape", "json", "all", "all, cpu")
    }
    for i in range(repeats):
        text = f"(b/{i + 13}{'-+'[i % 2]}{i % 3 + 1})^{2 + 2 * (i % 2)}"
        request = DescentIn.model_validate({**STAGE_BODY, "expression": text})
        began, cpu = time.perf_counter(), time.process_time()
        loss = lab.expression(text, None)
        parsed = time.perf_counter()
        start = lab.start_for(loss, lab.shapes(text, None), request.start)
        run = request.model_copy(update={"start": start})
        lab.start(loss, start)
        started = time.perf_counter()
        out = lab.run(run)
        ran = time.perf_counter()
        window = out["window"]
        view = lab.landscape(LandscapeIn.model_validate({"expression": text, "ranges": window}))
        drawn = time.perf_counter()
        json.dumps({**out, "landscape": view})
        done, cpu = time.perf_counter(), time.process_time() - cpu
        taken = (
            parsed - began,
            started - parsed,
            ran - started,
            drawn - ran,
            done - drawn,
            done - began,
            cpu,
        )
        for stage, seconds in zip(times, taken, strict=True):
            times[stage].append(seconds)
    return times


def stages(repeats: int, baseline: str, baseline_python: str) -> None:
    import json

    mine = stages_here(repeats)
    command = [baseline_python, __file__, "--stages-here", "--repeats", str(repeats)]
    found = subprocess.run(
        command, env={**os.environ, "PYTHONPATH": baseline}, capture_output=True, text=True, check=True
    )
    theirs = json.loads(found.stdout.strip().splitlines()[-1])
    print(f"/api/descent of a new one-parameter loss, in-process, warm, medians of {repeats} (min)")
    print(f"{'stage':<10} {'this tree':>18} {'baseline':>18}")
    for stage in mine:
        a, b = mine[stage], theirs[stage]
        print(
            f"{stage:<10} {statistics.median(a) * 1e3:>8.1f} ({min(a) * 1e3:5.1f}) ms"
            f" {statistics.median(b) * 1e3:>8.1f} ({min(b) * 1e3:5.1f}) ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--calibrate", action="store_true", help="time the cost estimates instead")
    parser.add_argument("--page", action="store_true", help="time the page in a browser instead")
    parser.add_argument("--stages", action="store_true", help="time a new loss's answer stage by stage")
    parser.add_argument("--stages-here", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", default="/work/main/src", help="the baseline tree's src folder")
    parser.add_argument("--baseline-python", default="/work/main/.venv/bin/python")
    args = parser.parse_args()
    if args.stages_here:  # the baseline's side of --stages, as JSON
        import json

        print(json.dumps(stages_here(args.repeats if args.repeats != 50 else 15)))
        return
    if args.stages:
        stages(args.repeats if args.repeats != 50 else 15, args.baseline, args.baseline_python)
        return
    if args.page:
        page_times(args.repeats if args.repeats != 50 else 7, args.baseline, args.baseline_python)
        return
    if args.calibrate:
        calibrate()
        return
    run_direct, sweep_direct = in_process(args.repeats)
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            run = latency(client, "run", RUN, args.repeats)
            sweep = latency(client, "sweep", SWEEP, args.repeats)
        result = load(base, args.clients, args.requests)
    finally:
        server.terminate()
        server.wait(10)
    ms = 1000
    print(f"{'what':<44} {'median':>9} {'p95':>9} {'in-process':>11}")
    for what, times, direct in [
        ("run: 1 parameter, 1,000 steps", run, run_direct),
        ("sweep: 50 rates x 1,000 steps", sweep, sweep_direct),
    ]:
        middle, high = statistics.median(times) * ms, percentile(times, 0.95) * ms
        print(f"{what:<44} {middle:>7.1f}ms {high:>7.1f}ms {direct * ms:>9.1f}ms")
    print(
        f"load: {args.clients} clients, {result['requests']} requests (40% parse, 40% run, 20% sweep): "
        f"{result['errors']} errors, {result['throughput']:.0f} requests/s over {result['wall']:.1f} s, "
        f"p50 {result['p50'] * ms:.1f} ms, p95 {result['p95'] * ms:.1f} ms"
    )


if __name__ == "__main__":
    main()

"""The lab server's defences: what it refuses to answer or to compute, and how it stops work."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

pytest.importorskip("fastapi")

import gdlab
from gdlab import _cancel
from gdlab.web import create_app
from gdlab.web._compute import Lab
from gdlab.web._files import STATIC
from gdlab.web._guards import SECURITY_HEADERS
from gdlab.web._models import WebLimits
from gdlab.web._server import running

LECTURE = {"expression": "(b/2-1)^2", "start": {"b": -10}}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running(create_app()) as url:
        yield url


def alone(response: httpx.Response) -> str:
    """A refusal of the request as a whole: its detail, sent as one problem of no field too."""
    answer = response.json()
    assert answer["problems"] == [{"field": None, "text": answer["detail"], "rule": None, "limit": None}]
    return str(answer["detail"])


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def as_host(url: str, host: str, path: str = "/", body: dict | None = None) -> httpx.Response:
    """A request to the server at ``url`` whose Host header says ``host`` (as a rebound name's would)."""
    with httpx.Client(base_url=url, timeout=60) as client:
        if body is None:
            return client.get(path, headers={"Host": host})
        return client.post(path, json=body, headers={"Host": host})


# -- DNS rebinding: only this server's own host names -------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io:{port}", "localhost.evil.example:{port}", ""],
)
def test_a_request_naming_another_host_is_refused(base, host):
    named = host.format(port=port_of(base))
    run = as_host(base, named, "/api/run", {**LECTURE, "rates": [0.5]})
    assert run.status_code == 400
    assert alone(run).startswith("this lab answers only at 127.0.0.1, localhost, [::1]")
    assert as_host(base, named, "/").status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
def test_the_loopback_names_are_answered(base, host):
    response = as_host(base, host.format(port=port_of(base)), "/api/parse", {"expression": "b^2"})
    assert response.status_code == 200, response.text


def test_a_server_for_a_named_host_answers_that_name_and_its_port_only():
    with running(create_app(host="192.168.1.4", port=8123)) as url:
        assert as_host(url, "192.168.1.4:8123", "/api/parse", {"expression": "b"}).status_code == 200
        assert as_host(url, "localhost:8123", "/api/parse", {"expression": "b"}).status_code == 200
        assert as_host(url, "192.168.1.4:8124").status_code == 400
        assert as_host(url, "10.0.0.9:8123").status_code == 400
        refused = as_host(url, "evil.example:8123")
        assert refused.json()["detail"].startswith(
            "this lab answers only at 127.0.0.1, localhost, [::1], 192.168.1.4 (port 8123)"
        )


def test_a_server_on_every_address_answers_any_address_but_no_other_name():
    import socket

    with running(create_app(host="0.0.0.0")) as url:
        assert as_host(url, "10.1.2.3:8000", "/api/parse", {"expression": "b"}).status_code == 200
        assert as_host(url, f"{socket.gethostname()}:8000").status_code == 200
        assert as_host(url, "evil.example:8000").status_code == 400


def test_serve_tells_the_app_its_host_and_port(monkeypatch):
    import uvicorn

    import gdlab.web

    seen = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.append(self.config.app))
    gdlab.web.serve(host="127.0.0.1", port=0)  # a free port: the app is told the one it got
    checks = [m for m in seen[0].user_middleware if m.cls.__name__ == "HostCheck"]
    assert checks and checks[0].kwargs["port"] > 0 and "127.0.0.1" in checks[0].kwargs["names"]


# -- security headers on every file ---------------------------------------------------------------


def test_every_static_file_gets_the_pages_security_headers(base):
    page = httpx.get(f"{base}/", timeout=60)
    wanted = {name: page.headers[name] for name in SECURITY_HEADERS}
    assert "default-src 'self'" in wanted["Content-Security-Policy"]
    files = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())
    assert "index.html" in files and "lab.js" in files
    paths = [f"/static/{name}" for name in files] + ["/vendor/plotly.min.js", "/favicon.ico", "/openapi.json"]
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == wanted, path
        refused = client.post("/api/run", json={"expression": "b", "start": {}, "rates": []})
        assert refused.status_code == 422 and refused.headers["x-content-type-options"] == "nosniff"
        head = client.head("/")  # what curl -I and link checkers ask: the page's headers, no body
        assert head.status_code == 200 and head.content == b""
        assert {name: head.headers.get(name) for name in SECURITY_HEADERS} == wanted


# -- cost, not counts ---------------------------------------------------------------------------


def twelve_sines() -> dict:
    """The issue's sweep: 12 parameters on the cafe data, 400 rates, 5,000 steps, in about 500 bytes."""
    terms = " - ".join(f"sin(b{i}*x/10)" for i in range(1, 12))
    return {
        "expression": f"sum((y - b0 - {terms})^2)",
        "data": "cafe",
        "start": {f"b{i}": 0.25 for i in range(12)},
        "low": 1e-6,
        "high": 1e-3,
        "num": 400,
        "steps": 5000,
        "method": "gd",
        "tol": 1e-8,
    }


def test_a_small_sweep_request_of_minutes_of_work_is_refused_naming_what_fits(base):
    body = twelve_sines()
    assert 400 < len(json.dumps(body)) < 600
    started = time.perf_counter()
    response = httpx.post(f"{base}/api/sweep", json=body, timeout=60)
    assert response.status_code == 422, response.text
    message = response.json()["detail"]
    assert re.match(
        r"steps: about \d+ s of work, over the 4 s one request may take: at most \d+ steps", message
    )
    # said under Steps on the page: the field, and the words after it
    assert response.json()["problems"] == [
        {"field": "steps", "text": message.removeprefix("steps: "), "rule": None, "limit": None}
    ]
    assert "steps at these 400 rates (or at most" in message
    assert time.perf_counter() - started < 10  # refused before any work (a parse and a compile at most)


def test_a_small_run_request_for_a_huge_answer_is_refused(base):
    body = {
        "expression": " + ".join(f"(b{i}-{i})^2" for i in range(20)),
        "start": {f"b{i}": 0.0 for i in range(20)},
        "rates": [0.01 * (i + 1) for i in range(12)],
        "steps": 100_000,
        "points": 5000,
    }
    assert len(json.dumps(body)) < 1400
    response = httpx.post(f"{base}/api/run", json=body, timeout=60)
    assert response.status_code == 422
    assert re.match(
        r"steps: about \d+ s of work, .*: at most [\d,]+ steps at these 12 rates", response.json()["detail"]
    )


def test_an_answer_is_thinned_to_what_the_page_can_draw(base):
    body = {
        "expression": " + ".join(f"(b{i}-{i})^2" for i in range(20)),
        "start": {f"b{i}": 0.0 for i in range(20)},
        "rates": [0.001 * (i + 1) for i in range(12)],
        "steps": 1000,
        "points": 5000,
    }
    response = httpx.post(f"{base}/api/run", json=body, timeout=120)
    assert response.status_code == 200, response.text
    runs = response.json()["runs"]
    rows = [len(r["index"]) for r in runs]
    assert max(rows) * len(runs) * (2 * 20 + 2) <= WebLimits().answer_numbers
    assert all(r["index"][-1] == r["steps"] == 1000 for r in runs)  # the last row is still the final one
    assert len(response.content) < 6_000_000


def lab_js_presets() -> list[dict]:
    """The page's presets, read from lab.js: the lecture's usual requests."""
    script = (STATIC / "lab.js").read_text()
    block = script[script.index("export const PRESETS = [") : script.index("];", script.index("PRESETS"))]
    presets = []
    for line in re.findall(r"\{ id: .*\}", block):
        text = re.search(r'e: "([^"]+)"', line)
        rates = re.search(r"r: \[([^\]]+)\]", line)
        steps = re.search(r"n: (\d+)", line)
        assert text and rates and steps, line
        presets.append(
            {"e": text[1], "d": "cafe" if 'd: "cafe"' in line else None, "r": len(rates[1].split(","))}
        )
    assert len(presets) >= 6
    return presets


def test_the_lectures_usual_requests_fit_the_budget():
    """Every preset, at the page's most steps, as runs and as the page's sweep (50 rates), fits."""
    lab, limits = Lab(), WebLimits()
    for preset in lab_js_presets():
        loss = lab.expression(preset["e"], preset["d"])
        lab.budget.descents(loss, preset["r"], limits.steps)
        lab.budget.descents(loss, limits.rates, 20_000)
        lab.budget.sweep(loss, 50, limits.steps)
        lab.budget.landscape(loss, 80 if len(loss.params) == 2 else 400, min(len(loss.params), 2))
        assert lab.budget.points(loss, preset["r"], 1000) == 1000  # the page's rows, unthinned


def test_the_number_a_refusal_names_fits():
    lab = Lab()
    loss = lab.expression(twelve_sines()["expression"], "cafe")
    with pytest.raises(gdlab.InputError) as refused:
        lab.budget.sweep(loss, 400, 5000)
    most_steps, most_rates = (
        int(n.replace(",", "")) for n in re.findall(r"at most ([\d,]+)", str(refused.value))
    )
    lab.budget.sweep(loss, 400, most_steps)
    lab.budget.sweep(loss, most_rates, 5000)
    with pytest.raises(gdlab.InputError):
        lab.budget.sweep(loss, 400, most_steps + 2)


def test_a_file_of_too_many_numbers_is_refused(base):
    body = {
        "expression": " + ".join(f"(b{i}-{i})^2" for i in range(20)),
        "start": {f"b{i}": 0.0 for i in range(20)},
        "rates": [0.01],
        "steps": 50_000,
        "format": "csv",
    }
    response = httpx.post(f"{base}/api/export", json=body, timeout=60)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("steps: a file of 50,000 steps would hold 2,100,042 numbers")


def test_a_costly_landscape_is_refused_naming_the_points_that_fit():
    from gdlab.web._models import LandscapeIn

    lab = Lab(WebLimits(work_seconds=1.0))
    text = "sum(" + " + ".join(f"sin(a*x+{i})*cos(b*x-{i})" for i in range(15)) + ")"  # 3 s measured
    request = LandscapeIn(expression=text, data="cafe", ranges={"a": (0, 1), "b": (0, 1)}, num=400)
    with pytest.raises(
        gdlab.InputError, match=r"^num: about [\d.]+ s of work, .*: at most \d+ points per axis"
    ):
        lab.landscape(request)
    lab.landscape(request.model_copy(update={"num": 20}))


# -- abandoned work stops and frees its slot ---------------------------------------------------------


class Spinner:
    """A computation that runs until stopped, checking between chunks as the drivers do."""

    def __init__(self) -> None:
        self.started, self.ended = threading.Event(), threading.Event()
        self.ended_at = 0.0

    def __call__(self) -> dict[str, object]:
        self.started.set()
        try:
            while True:
                _cancel.checkpoint()
                time.sleep(0.01)
        finally:
            self.ended_at = time.monotonic()
            self.ended.set()


def spinning_app(monkeypatch, **limits: float) -> tuple[object, Spinner]:
    """An app of one slot whose parse of the text "spin" runs until stopped."""
    app = create_app(WebLimits(workers=1, queue_wait=0.05, **limits))  # type: ignore[arg-type]
    spinner, parse = Spinner(), app.state.lab.parse
    monkeypatch.setattr(app.state.lab, "parse", lambda r: spinner() if r.expression == "spin" else parse(r))
    return app, spinner


def test_work_past_its_time_limit_stops_and_frees_its_slot(monkeypatch):
    app, spinner = spinning_app(monkeypatch, timeout=0.3)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        late = client.post("/api/parse", json={"expression": "spin"})
        answered = time.monotonic()
        assert late.status_code == 503 and "longer than the time limit (0.3 s)" in alone(late)
        assert spinner.ended.wait(1.0) and spinner.ended_at - answered < 1.0
        assert client.post("/api/parse", json={"expression": "b"}).status_code == 200  # the slot is free


def test_work_whose_client_left_stops_and_frees_its_slot(monkeypatch):
    app, spinner = spinning_app(monkeypatch, timeout=60)
    with running(app) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/api/parse", json={"expression": "spin"}, timeout=0.5)
        left = time.monotonic()  # the client closed its connection
        assert spinner.started.is_set()
        assert spinner.ended.wait(2.0) and spinner.ended_at - left < 1.0
        assert httpx.post(f"{url}/api/parse", json={"expression": "b"}, timeout=30).status_code == 200


def test_a_phase_diagram_past_its_time_limit_stops_between_chunks_and_frees_its_slot():
    """A real grid, let past the price (a budget of a million seconds), stopped by the time limit."""
    limits = WebLimits(workers=1, queue_wait=2.0, timeout=0.5, work_seconds=1e6)
    body = {**LECTURE, "num": 60, "momentum_num": 60, "steps": 100_000, "tol": None}
    with running(create_app(limits)) as url, httpx.Client(base_url=url, timeout=60) as client:
        client.post("/api/phase", json={**LECTURE, "num": 2, "momentum_num": 2, "steps": 10})  # compiled
        asked = time.monotonic()
        late = client.post("/api/phase", json=body)
        assert late.status_code == 503 and "longer than the time limit (0.5 s)" in late.json()["detail"]
        assert time.monotonic() - asked < 3
        deadline = time.monotonic() + 5  # the slot comes back once the work sees the stop
        while (answer := client.post("/api/parse", json={"expression": "b"})).status_code == 503:
            assert time.monotonic() < deadline
        assert answer.status_code == 200


def test_an_mp4_export_past_its_limit_gives_back_the_render_lock(monkeypatch):
    import numpy as np

    from gdlab.render._animation import Animation
    from gdlab.web import _compute

    def endless(self):  # an animation that never ends, a frame every 20 ms
        width, height = self.size
        frame = np.full((height, width, 4), 255, np.uint8)
        while True:
            time.sleep(0.02)
            yield frame

    monkeypatch.setattr(Animation, "frames", endless)
    app = create_app(WebLimits(export_timeout=1.0))
    body = {**LECTURE, "rates": [0.5], "steps": 10, "format": "mp4", "frames": 5}
    with running(app) as url:
        response = httpx.post(f"{url}/api/export", json=body, timeout=60)
        answered = time.monotonic()
        assert response.status_code == 503
        assert _compute._RENDER_LOCK.acquire(timeout=2.0), "the stopped export still holds the render lock"
        _compute._RENDER_LOCK.release()
        assert time.monotonic() - answered < 2.0


# -- numbers of their own type, and the page's words -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/api/run", {**LECTURE, "rates": [0.5], "steps": False}, "steps: false is not a whole number"),
        # Text is read as the command line reads it ("100" is 100): what it cannot read is refused.
        (
            "/api/run",
            {**LECTURE, "rates": [0.5], "steps": "lots"},
            "steps: lots is not a number",
        ),
        ("/api/run", {**LECTURE, "rates": [0.5], "steps": 100.0}, "steps: 100.0 is not a whole number"),
        ("/api/run", {**LECTURE, "rates": [True]}, "rates.0: true is not a number"),
        ("/api/run", {**LECTURE, "rates": ["half"]}, "rates.0: half is not a number"),
        (
            "/api/run",
            {"expression": "b^2", "start": {"b": True}, "rates": [0.5]},
            "start.b: true is not a number",
        ),
        ("/api/run", {**LECTURE, "rates": [0.5], "points": True}, "points: true is not a whole number"),
        ("/api/run", {**LECTURE, "rates": [0.5], "tol": False}, "tol: false is not a number"),
        ("/api/sweep", {**LECTURE, "log": 1}, "log: 1 is not true or false"),
        ("/api/sweep", {**LECTURE, "num": True}, "num: true is not a whole number"),
        ("/api/sweep", {**LECTURE, "low": 10, "high": 1}, "high: low must be below high; got 10 and 1"),
        (
            "/api/export",
            {**LECTURE, "rates": [0.5], "frames": False, "format": "gif"},
            "frames: false is not a whole number",
        ),
        (
            "/api/run",
            {"expression": "3+4", "start": {}, "rates": [0.1]},
            "3+4 has no parameters to differentiate or move",
        ),
    ],
)
def test_numbers_must_be_numbers_and_messages_name_the_pages_fields(base, path, body, words):
    response = httpx.post(f"{base}{path}", json=body, timeout=60)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(words)


def test_whole_numbers_are_still_rates(base):
    response = httpx.post(f"{base}/api/run", json={**LECTURE, "rates": [1], "steps": 3}, timeout=60)
    assert response.status_code == 200 and response.json()["runs"][0]["lr"] == 1.0


# -- memory under many distinct losses (benchmarks/bench_web_soak.py, in small) ---------------------------


def test_distinct_losses_past_the_kept_ones_leave_little_behind():
    """With the compiled code of 2 losses kept (``gdlab serve`` keeps 12), 12 more distinct losses
    through parse, run and sweep are answered and leave under 1.5 MB each: their code (about 10 MB
    a loss) is freed as they leave. Before the ring of losses, each kept about 10 MB."""
    import gc

    import psutil

    from gdlab._cache import keep_compiled

    app = create_app(WebLimits(cached_expressions=2))
    me = psutil.Process()

    def one(client: httpx.Client, k: int) -> list[int]:
        text, start = f"(b-{k})^2+0.5*(c+{k})^2", {"b": 0.0, "c": 0.0}
        run = {"expression": text, "start": start, "rates": [0.1, 0.5], "steps": 100, "tol": 1e-8}
        sweep = {"expression": text, "start": start, "low": 0.01, "high": 3, "num": 20, "steps": 200}
        bodies = [("parse", {"expression": text}), ("run", run), ("sweep", sweep)]
        return [client.post(f"/api/{name}", json=body).status_code for name, body in bodies]

    kept = keep_compiled(2)
    try:
        with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
            warm = [one(client, k) for k in range(1000, 1004)]  # past what is kept: it now frees
            gc.collect()
            before, started = me.memory_info().rss, time.monotonic()
            answers = [one(client, k) for k in range(1, 13)]
            gc.collect()
            grown = (me.memory_info().rss - before) / 12 / 2**20
    finally:
        keep_compiled(kept)
    assert all(status == 200 for statuses in warm + answers for status in statuses)
    assert time.monotonic() - started < 60
    assert grown < 1.5, f"{grown:.1f} MB kept per distinct loss past the 2 kept"

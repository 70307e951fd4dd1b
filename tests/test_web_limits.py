"""The lab server's defences: what it refuses to answer or to compute, and how it stops work."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

pytest.importorskip("fastapi")

from gdlab.web import create_app
from gdlab.web._files import STATIC
from gdlab.web._guards import SECURITY_HEADERS
from gdlab.web._server import running

LECTURE = {"expression": "(b/2-1)^2", "start": {"b": -10}}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running(create_app()) as url:
        yield url


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
    assert run.json()["detail"].startswith("this lab answers only at 127.0.0.1, localhost, [::1]")
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
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: seen.append(self.config.app))
    gdlab.web.serve(host="127.0.0.1", port=8765)
    checks = [m for m in seen[0].user_middleware if m.cls.__name__ == "HostCheck"]
    assert checks and checks[0].kwargs["port"] == 8765 and "127.0.0.1" in checks[0].kwargs["names"]


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


# -- numbers of their own type, and the page's words -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/api/run", {**LECTURE, "rates": [0.5], "steps": False}, "steps: Input should be a valid integer"),
        ("/api/run", {**LECTURE, "rates": [0.5], "steps": "100"}, "steps: Input should be a valid integer"),
        ("/api/run", {**LECTURE, "rates": [0.5], "steps": 100.0}, "steps: Input should be a valid integer"),
        ("/api/run", {**LECTURE, "rates": [True]}, "rates.0: Input should be a valid number"),
        ("/api/run", {**LECTURE, "rates": ["0.5"]}, "rates.0: Input should be a valid number"),
        ("/api/run", {"expression": "b^2", "start": {"b": True}, "rates": [0.5]}, "start.b: Input should be"),
        ("/api/run", {**LECTURE, "rates": [0.5], "points": True}, "points: Input should be a valid integer"),
        ("/api/run", {**LECTURE, "rates": [0.5], "tol": False}, "tol: Input should be a valid number"),
        ("/api/sweep", {**LECTURE, "log": 1}, "log: Input should be a valid boolean"),
        ("/api/sweep", {**LECTURE, "num": True}, "num: Input should be a valid integer"),
        ("/api/sweep", {**LECTURE, "low": 10, "high": 1}, "high: low must be below high; got 10 and 1"),
        (
            "/api/export",
            {**LECTURE, "rates": [0.5], "frames": False, "format": "gif"},
            "frames: Input should",
        ),
        ("/api/run", {"expression": "3+4", "start": {}, "rates": [0.1]}, "start: the loss has no parameters"),
    ],
)
def test_numbers_must_be_numbers_and_messages_name_the_pages_fields(base, path, body, words):
    response = httpx.post(f"{base}{path}", json=body, timeout=60)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(words)


def test_whole_numbers_are_still_rates(base):
    response = httpx.post(f"{base}/api/run", json={**LECTURE, "rates": [1], "steps": 3}, timeout=60)
    assert response.status_code == 200 and response.json()["runs"][0]["lr"] == 1.0

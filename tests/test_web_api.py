"""The lab's JSON API: every endpoint, its examples, and clear 4xx answers for bad input (never a 500)."""

from __future__ import annotations

import io
import json
import math
import re
import warnings

import httpx
import numpy as np
import pytest

import gdlab

pytest.importorskip("fastapi")

from gdlab._colours import REGIME_COLOURS
from gdlab.web import ExposedServerWarning, create_app, is_loopback
from gdlab.web._models import WebLimits
from gdlab.web._server import running

LECTURE = {"expression": "(b/2-1)^2", "start": {"b": -10}}
CAFE = {"expression": "sum((y - b0 - b1*x)^2)", "data": "cafe", "start": {"b0": 9, "b1": 2}}


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture(scope="module")
def url(app):
    with running(app) as base:
        yield base


@pytest.fixture(scope="module")
def client(url):
    with httpx.Client(base_url=url, timeout=60) as session:
        yield session


def detail(response: httpx.Response) -> str:
    text = response.json()["detail"]
    assert isinstance(text, str) and text
    return text


# -- every endpoint answers its own example ------------------------------------------------------


def test_every_endpoint_has_an_example_that_works(client):
    schema = client.get("/openapi.json").json()
    posts = {path: spec["post"] for path, spec in schema["paths"].items() if "post" in spec}
    assert set(posts) == {
        "/api/parse",
        "/api/methods",
        "/api/run",
        "/api/descent",
        "/api/landscape",
        "/api/sweep",
        "/api/phase",
        "/api/phase/picture",
        "/api/stability",
        "/api/fit",
        "/api/export",
        "/api/lesson/{key}",
    }
    for path, spec in posts.items():
        ref = spec["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        examples = schema["components"]["schemas"][ref]["examples"]
        assert examples, path
        for example in examples:
            response = client.post(path.replace("{key}", "descent"), json=example)
            assert response.status_code == 200, (path, response.text)


def test_phase_maps_rate_and_momentum_with_the_theory_and_each_cell_s_sentence(client):
    body = {**LECTURE, "rates": [1, 5, 13], "momenta": [0, 0.5], "steps": 500, "tol": 1e-8}
    out = client.post("/api/phase", json=body).json()
    assert out["regime"] == [["converged", "converged"], ["diverged", "converged"], ["diverged", "diverged"]]
    assert out["theory"]["critical_lrs"] == [4.0, 6.0]  # 2(1 + b)/L with L = 1/2
    assert out["theory"]["best"] == {"lr": pytest.approx(2.0), "momentum": 0.0}
    assert out["notes"][0][0].startswith("converged at step")
    assert out["regime_colours"] == dict(REGIME_COLOURS)  # the pictures' own colours
    ranged = {**LECTURE, "low": 0.1, "high": 10, "num": 5, "steps": 50}
    ranged.update(momentum_high=0.9, momentum_num=4)
    grid = client.post("/api/phase", json=ranged).json()
    assert grid["lrs"] == pytest.approx(gdlab.rates(0.1, 10, 5).tolist())
    assert grid["momenta"] == pytest.approx([0, 0.3, 0.6, 0.9])
    assert len(grid["regime"]) == 5 and {len(row) for row in grid["regime"]} == {4}
    adam = client.post("/api/phase", json={**ranged, "method": "adam", "hyper": {"b2": "0.99"}}).json()
    assert adam["setting"] == "b1" and adam["theory"] is None and "adam" in adam["theory_note"]


def test_a_batch_size_runs_gdlab_sgd_over_the_loss_s_data(client):
    """The page's SGD: the typed loss with a batch of rows in the data's place, as gdlab.sgd runs it."""
    from gdlab._bind import parse_with_data

    body = {**CAFE, "rates": [1e-3], "batch_size": "1", "epochs": "2*5", "points": 5000}
    run = client.post("/api/run", json=body).json()["runs"][0]
    loss = parse_with_data(CAFE["expression"], "cafe")
    data = {k: np.asarray(v) for k, v in loss.data_values.items()}
    path = gdlab.sgd(
        lambda p, batch: loss.function({**batch, **p}),
        {"b0": 9.0, "b1": 2.0},
        data,
        lr=1e-3,
        batch_size=1,
        epochs=10,
    )
    assert run["steps"] == 100 and run["message"].startswith("ran 10 epoch(s) of 10 batches of 1 rows")
    np.testing.assert_allclose(run["params"], np.asarray(path.flat_params()), rtol=1e-12)
    csv = client.post("/api/export", json={**body, "format": "csv"})
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 102  # header and 101 rows


def test_parse_gives_parameters_and_exact_derivatives(client):
    out = client.post("/api/parse", json={"expression": "sum((y - b0 - b1*x)^2)", "data": "cafe"}).json()
    assert out["params"] == ["b0", "b1"]
    assert sorted(out["data"]) == ["x", "y"]
    assert out["derivatives"]["b1"] == "sum(2*x*(b0 + b1*x - y))"
    assert out["derivatives_latex"]["b1"].startswith("\\sum")


def test_a_bad_expression_is_422_with_the_caret(client):
    response = client.post("/api/parse", json={"expression": "sqr(b) + 1"})
    assert response.status_code == 422
    message = detail(response)
    assert "did you mean sqrt" in message
    assert message.endswith("  sqr(b) + 1\n  ^^^")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("__import__('os')", "not"),
        ("b.__class__", ""),
        ("2b + 1", "write 2*b"),
        ("9**9**9**9", ""),
        ("(" * 100 + "b" + ")" * 100, "nested"),
    ],
)
def test_hostile_or_broken_text_is_refused_with_a_message(client, text, words):
    response = client.post("/api/run", json={"expression": text, "start": {"b": 1}, "rates": [0.1]})
    assert response.status_code == 422
    assert words in detail(response)


SALES = (
    "sales,temp,shop\n55.4,20.1,a\n58.2,22.2,b\n61.2,22.7,c\n60.1,24.0,a\n64.3,25.5,b\n66.0,26.1,c\n"
    "59.0,21.0,b\n"
)


def test_a_formula_fitted_to_an_uploaded_csv_gives_the_command_line_s_summary(client, tmp_path):
    from typer.testing import CliRunner

    from gdlab.cli import app as cli

    response = client.post("/api/fit", json={"csv": SALES, "formula": "sales ~ temp + C(shop)"})
    assert response.status_code == 200, response.text
    found = response.json()
    assert list(found["fit"]["coefficients"]) == ["Intercept", "C(shop)[T.b]", "C(shop)[T.c]", "temp"]
    assert "C(shop): reference level 'a' (3 levels)" in found["summary"]
    path = tmp_path / "data.csv"
    path.write_text(SALES)
    printed = CliRunner().invoke(cli, ["fit", str(path), "sales ~ temp + C(shop)"]).output
    assert [line.rstrip() for line in printed.strip().splitlines()] == [
        line.rstrip() for line in found["summary"].splitlines()
    ]


@pytest.mark.parametrize(
    ("formula", "words"),
    [
        ("sales ~ temp.__class__", "attribute .__class__ is not allowed"),
        ("sales ~ __import__('os')", "is not allowed"),
        ("sales ~ open('x')", "is not allowed"),
        ("sales ~ C(shop.__class__)", "not a category"),
    ],
)
def test_a_hostile_formula_is_refused_by_the_compiler(client, formula, words):
    response = client.post("/api/fit", json={"csv": SALES, "formula": formula})
    assert response.status_code == 422
    assert words in detail(response)


def test_run_gives_status_message_and_exact_final_values(client):
    out = client.post("/api/run", json={**LECTURE, "rates": [0.5, 5], "steps": 1000, "tol": 1e-8}).json()
    calm, wild = out["runs"]
    assert calm["status"] == "converged" and calm["message"].startswith("converged at step 71")
    assert wild["status"] == "diverged" and "lower the rate 5" in wild["message"]
    assert calm["index"][-1] == calm["steps"] == 71
    assert calm["params"][-1] == [calm["final"]["b"]]


def test_long_runs_are_thinned_with_the_last_row_exact(client):
    out = client.post("/api/run", json={**LECTURE, "rates": [0.001], "steps": 100_000, "points": 200}).json()
    run = out["runs"][0]
    assert len(run["index"]) <= 200 and run["index"][0] == 0 and run["index"][-1] == 100_000
    assert run["params"][-1] == [run["final"]["b"]]
    assert run["loss"][-1] == run["final_loss"]


def test_optimiser_settings_reach_optax(client):
    base = {**LECTURE, "rates": [0.5], "method": "momentum", "steps": 5}
    plain = client.post("/api/run", json=base).json()["runs"][0]["final"]["b"]
    light = client.post("/api/run", json={**base, "hyper": {"momentum": 0.1}}).json()["runs"][0]["final"]["b"]
    assert plain != light
    response = client.post("/api/run", json={**base, "hyper": {"b1": 0.5}})
    assert response.status_code == 422 and "momentum has no setting b1" in detail(response)


def test_every_optimiser_gdlab_has_is_offered(client):
    import gdlab

    offered = client.post("/api/methods", json={}).json()["methods"]
    assert [m["name"] for m in offered] == list(gdlab.METHODS)
    assert next(m for m in offered if m["name"] == "adam")["settings"] == {"b1": 0.9, "b2": 0.999}


def test_the_functions_a_loss_may_call_are_offered(client):
    """The page waits while one of these names is half typed (si of sin), rather than send a parameter si."""
    from gdlab._expr import FUNCTIONS

    functions = client.post("/api/methods", json={}).json()["functions"]
    assert functions == sorted(FUNCTIONS) and {"sin", "sqrt", "log10", "sigmoid"} <= set(functions)


def test_the_page_is_told_the_step_limit_it_checks_first(client):
    """The page refuses too many steps before asking (nothing is lost to a refusal): the limit it
    checks is the server's, sent with the methods, and a request over it is refused alike."""
    limit = client.post("/api/methods", json={}).json()["max_steps"]
    assert limit == WebLimits().steps
    over = client.post(
        "/api/run", json={"expression": "(b/2-1)^2", "start": {"b": -10}, "rates": [0.1], "steps": limit + 1}
    )
    assert over.status_code == 422 and over.json()["problems"][0]["limit"] == limit


def test_an_optimiser_that_chooses_its_own_steps_runs_once_without_a_rate(client):
    import gdlab

    own = [name for name, spec in gdlab.METHODS.items() if not spec.needs_lr]
    if not own:
        pytest.skip("every optimiser here takes a rate")
    out = client.post("/api/run", json={**LECTURE, "rates": [0.5, 5], "method": own[0], "steps": 20}).json()
    assert len(out["runs"]) == 1 and out["runs"][0]["lr"] is None and out["runs"][0]["method"] == own[0]
    csv = client.post(
        "/api/export", json={**LECTURE, "rates": [0.5], "method": own[0], "steps": 20, "format": "csv"}
    )
    assert f'filename="gdlab-{own[0]}.csv"' in csv.headers["content-disposition"]


def test_descent_is_the_run_and_its_landscape_in_one_answer(client):
    """The page's first picture from one request: the same numbers as /api/run then /api/landscape."""
    body = {**LECTURE, "rates": [0.5, 2], "steps": 60, "tol": 1e-8}
    both = client.post("/api/descent", json=body).json()
    run = client.post("/api/run", json=body).json()
    assert both["runs"] == run["runs"] and both["window"] == run["window"]
    landscape = client.post(
        "/api/landscape", json={"expression": LECTURE["expression"], "ranges": run["window"]}
    ).json()
    assert both["landscape"] == landscape and both["landscape_error"] is None
    assert both["loss"] == {"text": "(b/2-1)**2", "params": ["b"], "shapes": {"b": []}, "data": []}
    assert both["start"] == {"b": -10.0}
    alone = client.post("/api/descent", json={**body, "landscape": False}).json()
    assert alone["landscape"] is None and alone["runs"] == run["runs"]


def test_descent_reads_the_start_for_the_loss_as_typed(client):
    """A loss typed with a new parameter name is run at once (no 422 for the old name): the old
    name is left out and the new one starts where parse says its gradient is not zero."""
    body = {"expression": "(x-1)^2", "start": {"b": -10}, "rates": [0.1], "steps": 5}
    out = client.post("/api/descent", json=body)
    assert out.status_code == 200, out.text
    suggested = client.post("/api/parse", json={"expression": "(x-1)^2"}).json()["start"]
    assert out.json()["start"] == suggested == {"x": -1.0}
    x = -1.0
    for _ in range(5):
        x -= 0.1 * 2 * (x - 1)  # the closed form of gd on (x-1)^2
    assert out.json()["runs"][0]["final"]["x"] == pytest.approx(x, rel=1e-12)
    kept = client.post("/api/descent", json={**body, "start": {"x": 3, "b": 1}}).json()
    assert kept["start"] == {"x": 3.0}
    unstarted = client.post("/api/descent", json={k: v for k, v in body.items() if k != "start"})
    assert unstarted.status_code == 200, unstarted.text  # no start at all: each begins as suggested
    assert unstarted.json()["start"] == suggested


def test_a_descent_of_a_bad_loss_names_the_expression(client):
    response = client.post("/api/descent", json={**LECTURE, "expression": "(b/2-1)^", "rates": [0.5]})
    assert response.status_code == 422
    assert detail(response).startswith("expression: ") and "^" in detail(response)


def test_landscape_one_and_two_parameters(client):
    one = client.post(
        "/api/landscape", json={"expression": "(b/2-1)^2", "ranges": {"b": [-10, 10]}, "num": 5}
    ).json()
    assert one["values"] == [36.0, 12.25, 1.0, 2.25, 16.0]
    two = client.post(
        "/api/landscape",
        json={"expression": "x^2 + 1000*y^2", "ranges": {"y": [-1, 1], "x": [-3, 3]}, "num": 7},
    ).json()
    assert two["names"] == ["y", "x"] and two["values"][0][3] == 1000.0 and two["log"] is True


def test_landscape_marks_non_finite_values_as_null(client):
    out = client.post(
        "/api/landscape", json={"expression": "log(b)", "ranges": {"b": [-1, 1]}, "num": 3}
    ).json()
    assert out["values"][0] is None and out["values"][2] == 0.0


def test_sweep_has_regimes_the_bound_and_explanations(client):
    out = client.post("/api/sweep", json={**LECTURE, "rates": [0.5, 4, 5], "steps": 200, "tol": 1e-8}).json()
    assert [r["regime"] for r in out["runs"]] == ["converged", "oscillating", "diverged"]
    assert out["critical_lr"] == 4.0
    assert (
        out["runs"][2]["explain"]
        == "lr=5 > 2/L=4: each step overshoots by more than it gains, so it diverges near here"
    )


def test_stability_explains_rates(client):
    out = client.post("/api/stability", json={"expression": "(b/2-1)^2", "at": {"b": 2}, "lrs": [2]}).json()
    assert out["critical_lr"] == 4.0 and out["best_lr"] == 2.0
    assert out["explain"][0]["text"] == "lr=2 = 1/L: the step lands on the minimum of this quadratic at once"


# -- exports come from gdlab's own writers ----------------------------------------------------


def test_csv_and_json_exports_hold_every_step(client):
    request = {**LECTURE, "rates": [0.5, 2], "steps": 3, "run": 0}
    csv = client.post("/api/export", json={**request, "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="gdlab-lr0.5.csv"' in csv.headers["content-disposition"]
    assert csv.text.splitlines() == [
        "step,b,loss,grad b",
        "0,-10,36,-6",
        "1,-7,20.25,-4.5",
        "2,-4.75,11.390625,-3.375",
        "3,-3.0625,6.4072265625,-2.53125",
    ]
    data = client.post("/api/export", json={**request, "format": "json", "run": 1}).json()
    assert data["lr"] == 2 and data["params"] == [[-10.0], [2.0], [2.0], [2.0]]


@pytest.mark.parametrize(("fmt", "magic"), [("gif", b"GIF89a"), ("mp4", b"ftyp")])
def test_animation_exports(client, fmt, magic):
    response = client.post(
        "/api/export", json={**LECTURE, "rates": [0.5, 4.5], "steps": 10, "format": fmt, "frames": 5}
    )
    assert response.status_code == 200, response.text
    assert magic in response.content[:12]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_picture_exports_are_gdlab_plot_in_the_run_colours(client, fmt):
    """PNG and SVG of the runs, drawn by gdlab.plot: valid files holding each run's colour."""
    import xml.etree.ElementTree as ET

    from PIL import Image

    body = {**LECTURE, "rates": [0.5, 2, 4.5], "steps": 30, "format": fmt}
    response = client.post("/api/export", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith({"png": "image/png", "svg": "image/svg+xml"}[fmt])
    colours = [c.lower() for c in client.post("/api/methods", json={}).json()["run_colours"][:3]]
    if fmt == "svg":
        assert ET.fromstring(response.content).tag == "{http://www.w3.org/2000/svg}svg"
        assert all(f"stroke: {c}" in response.text for c in colours)
    else:
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.format == "PNG" and image.size == (1200, 560)
            pixels = {"#" + bytes(p[:3]).hex() for _, p in image.convert("RGB").getcolors(1 << 20)}
        assert set(colours) <= pixels


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_the_phase_picture_is_gdlab_plot_of_the_phase_in_the_regime_colours(client, fmt):
    import xml.etree.ElementTree as ET

    from PIL import Image

    body = {**LECTURE, "low": 0.1, "high": 20, "num": 12, "momentum_num": 10, "steps": 200, "format": fmt}
    response = client.post("/api/phase/picture", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="gdlab-phase-momentum.{fmt}"'
    colours = {REGIME_COLOURS["converged"].lower(), REGIME_COLOURS["diverged"].lower()}
    if fmt == "svg":
        assert ET.fromstring(response.content).tag == "{http://www.w3.org/2000/svg}svg"
        assert all(c in response.text.lower() for c in colours)
    else:
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.format == "PNG" and image.size == (1000, 700)
            pixels = {"#" + bytes(p[:3]).hex() for _, p in image.convert("RGB").getcolors(1 << 20)}
        assert colours <= pixels
    refused = client.post("/api/phase/picture", json={**body, "num": 61})
    assert refused.status_code == 422 and "num: 61 must be 60 or less" in detail(refused)


def test_export_of_a_run_that_does_not_exist(client):
    response = client.post("/api/export", json={**LECTURE, "rates": [0.5], "steps": 3, "run": 3})
    assert response.status_code == 422 and "run 3 does not exist" in detail(response)


# -- limits: clear 4xx, never 500 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/api/run", {**LECTURE, "rates": [0.1] * 13}, "rates: 13 rates; at most 12 at once: remove 1"),
        (
            "/api/run",
            {**LECTURE, "rates": [0.1], "steps": 10**9},
            "must be 100000 or less",
        ),
        ("/api/run", {**LECTURE, "rates": [-1]}, "-1 must be more than 0"),
        ("/api/run", {**LECTURE, "rates": [0.1], "steps": -1}, "steps: -1 must be 0 or more"),
        (
            "/api/run",
            {**LECTURE, "rates": [0.1], "method": "newtonian"},
            "method: 'newtonian' is unknown: did you mean 'newton'? choose one of gd,",
        ),
        (
            "/api/run",
            {"expression": "b", "start": {"c": 1}, "rates": [0.1]},
            "give a start for b; c is not a parameter of b (its parameters: b)",
        ),
        (
            "/api/run",
            {"expression": "b^2", "start": {"b": 1, "c": 2}, "rates": [0.1]},
            "c is not a parameter",
        ),
        (
            "/api/run",
            {"expression": "b" * 3000, "start": {"b": 1}, "rates": [0.1]},
            "expression: is 3,000 characters long: at most 2,000",
        ),
        (
            "/api/run",
            {**LECTURE, "rates": [0.1], "surprise": 1},
            "surprise: is not a field of this request: check its spelling",
        ),
        (
            "/api/sweep",
            {**CAFE, "num": 400, "steps": 100_000},
            "s of work, over the 4 s one request may take: at most 64,516 steps at these 400 rates",
        ),
        ("/api/sweep", {**LECTURE, "num": 401}, "num: 401 must be 400 or less"),
        ("/api/sweep", {**LECTURE, "low": 10, "high": 1}, "low must be below high"),
        (
            "/api/phase",
            {**LECTURE, "num": 60, "momentum_num": 60, "steps": 100_000},
            "steps: about 5.6 s of work, over the 4 s one request may take: at most 71,684 steps at these "
            "3,600 cells (or at most 2,580 cells at 100,000 steps)",
        ),
        ("/api/phase", {**LECTURE, "num": 61}, "num: 61 must be 60 or less"),
        ("/api/phase", {**LECTURE, "momentum_num": 61}, "momentum_num: 61 must be 60 or less"),
        ("/api/phase", {**LECTURE, "momenta": [0.5] * 61}, "momenta: has 61 items: at most 60"),
        ("/api/phase", {**LECTURE, "momentum_high": 1}, "momentum_high: 1 must be less than 1"),
        ("/api/phase", {**LECTURE, "momenta": [0, -0.1]}, "momenta.1: -0.1 must be 0 or more"),
        ("/api/phase", {**LECTURE, "momentum_low": 0.5, "momentum_high": 0.2}, "must not be above"),
        ("/api/phase", {**LECTURE, "low": 10, "high": 1}, "low must be below high"),
        ("/api/phase", {**LECTURE, "method": "gd"}, "'momentum', 'nesterov' or 'adam'"),
        (
            "/api/phase",
            {**LECTURE, "hyper": {"momentum": 0.5}},
            "hyper: momentum is the setting the phase diagram varies; give its values as momenta",
        ),
        ("/api/phase", {**LECTURE, "method": "adam", "hyper": {"b1": 0.5}}, "hyper: b1 is the setting"),
        ("/api/phase", {"expression": "b^2", "start": {"c": 1}}, "give a start for b"),
        (
            "/api/run",
            {**CAFE, "rates": [1e-3], "batch_size": 11},
            "batch_size: at most 10, the rows of the data",
        ),
        ("/api/run", {**CAFE, "rates": [1e-3], "batch_size": 0}, "batch_size: 0 must be 1 or more"),
        ("/api/run", {**CAFE, "rates": [1e-3], "batch_size": "a"}, "batch_size: a is not a number"),
        (
            "/api/run",
            {**CAFE, "rates": [1e-3], "batch_size": 1, "epochs": 100_000},
            "epochs: 100,000 epochs of 10 steps are 1,000,000 steps, over the 100,000 a run may take: "
            "at most 10,000 epochs at batch size 1",
        ),
        (
            "/api/run",
            {**LECTURE, "rates": [0.1], "batch_size": 1},
            "batch_size: minibatches are rows of data, and this loss names none",
        ),
        ("/api/landscape", {"expression": "x+y+z", "ranges": {"x": [0, 1], "y": [0, 1]}}, "a range for each"),
        ("/api/landscape", {"expression": "b", "ranges": {"b": [1, 0]}}, "from low to high"),
        ("/api/landscape", {"expression": "b", "ranges": {"b": [-1e308, 1e308]}}, "too wide to draw"),
        (
            "/api/run",
            {"expression": "3+4", "start": {}, "rates": [0.1]},
            "3+4 has no parameters to differentiate or move",
        ),
        ("/api/run", {"expression": "x*b", "data": "cafe", "start": {"b": 1}, "rates": [0.1]}, "one number"),
        ("/api/stability", {"expression": "b^2", "at": {}}, "give a start for b"),
    ],
)
def test_bad_requests_are_422_with_the_fix(client, path, body, words):
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert words in detail(response)


def test_numbers_typed_as_text_are_read_as_the_command_line_reads_them(client):
    body = {**LECTURE, "start": {"b": "-20/2"}, "rates": "0.01/6, 0.5", "steps": "10^2", "tol": "1e-8"}
    response = client.post("/api/run", json=body)
    assert response.status_code == 200, response.text
    runs = response.json()["runs"]
    assert [r["lr"] for r in runs] == [0.01 / 6, 0.5]
    assert runs[0]["start"] == {"b": -10.0} and runs[0]["tol"] == 1e-8
    sweep = client.post(
        "/api/sweep", json={**LECTURE, "low": "1/100", "high": "10", "num": "2*5", "steps": 50}
    )
    assert sweep.status_code == 200 and sweep.json()["runs_count"] == 10


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"rates": "0,5"}, "rates: write a decimal point, not a comma: 0.5"),
        ({"rates": ", ".join(["0.1"] * 13)}, "rates: 13 rates; at most 12 at once: remove 1"),
        ({"rates": "0.1, abc"}, "rates: abc is not a number; write one such as 1e-8 or 0.01/6"),
        ({"rates": "0.1", "tol": "abc"}, "tol: abc is not a number; write one such as 1e-8 or 0.01/6"),
        ({"rates": "0.1", "tol": "0,5"}, "tol: write a decimal point, not a comma: 0.5"),
        ({"rates": "0.1", "steps": "10.5"}, "steps: give a whole number, not 10.5"),
        ({"rates": "0.1", "start": {"b": "1/0"}}, "start.b: this arithmetic gives a number too large"),
        ({"rates": "0.1", "start": {"b": ""}}, "start.b: a number is missing"),
    ],
)
def test_numbers_gdlab_cannot_read_are_refused_naming_the_field(client, fields, words):
    response = client.post("/api/run", json={**LECTURE, **fields})
    assert response.status_code == 422, response.text
    assert words in detail(response)
    assert "Value error" not in detail(response)


@pytest.mark.parametrize("huge", [4.01, 5, 10, 100])
def test_a_diverging_rate_does_not_set_the_window(client, huge):
    """The window the page draws (and the export frames) holds the race, not one run's flight."""
    response = client.post("/api/run", json={**LECTURE, "rates": [0.5, 2, huge], "steps": 60})
    assert response.status_code == 200, response.text
    low, high = response.json()["window"]["b"]
    assert -16 < low <= -10 and 2 <= high < 20, (low, high)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(client, number):
    body = f'{{"expression": "b^2", "start": {{"b": {number}}}, "rates": [0.1]}}'
    response = client.post("/api/run", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "start.b: " in detail(response)


def test_broken_json_is_422(client):
    response = client.post("/api/run", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "JSON" in detail(response)


def test_oversize_bodies_are_413(client):
    body = json.dumps({**LECTURE, "rates": [0.1], "pad": "x" * 70_000})
    response = client.post("/api/run", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "larger than 65,536 bytes" in detail(response)
    assert response.json()["problems"] == [
        {"field": None, "text": detail(response), "rule": None, "limit": None}
    ]

    def chunks():
        for _ in range(70):
            yield b"x" * 1024

    response = client.post("/api/run", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_a_computation_past_the_time_limit_is_503_and_the_next_waits_its_turn(monkeypatch):
    import time

    slow = create_app(WebLimits(timeout=0.02, workers=1, queue_wait=0.05))
    # Work that never checks for a stop (a driver without checkpoints) keeps its slot until it ends.
    parse = slow.state.lab.parse
    monkeypatch.setattr(
        slow.state.lab, "parse", lambda r: time.sleep(1) or parse(r) if r.expression == "z" else parse(r)
    )
    # A loss no other test compiles, many steps and rates: well over 20 ms.
    body = {"expression": "(q/3-1)^2 + sin(q)^2", "start": {"q": 5}, "rates": [0.01] * 12, "steps": 100_000}
    with running(slow) as base, httpx.Client(base_url=base, timeout=30) as session:
        late = session.post("/api/run", json=body)
        deadline = time.monotonic() + 30  # the stopped run gives its slot back
        while session.post("/api/parse", json={"expression": "b"}).status_code != 200:  # then kept
            assert time.monotonic() < deadline
            time.sleep(0.05)
        held = session.post("/api/parse", json={"expression": "z"})
        busy = session.post("/api/parse", json={"expression": "b"})
        while session.post("/api/parse", json={"expression": "b"}).status_code != 200:  # z has ended
            assert time.monotonic() < deadline + 30
            time.sleep(0.05)
    assert late.status_code == 503 and "longer than the time limit (0.02 s)" in detail(late)
    assert held.status_code == 503 and "longer than the time limit (0.02 s)" in detail(held)
    assert busy.status_code == 503 and "busy: 1 computations are running" in detail(busy)
    assert late.headers["retry-after"] == "1"


def test_one_slow_request_does_not_stall_others(app, url):
    import concurrent.futures
    import time

    heavy = {**LECTURE, "rates": [0.001] * 12, "steps": 100_000, "points": 10}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        started = time.perf_counter()
        slow = pool.submit(httpx.post, f"{url}/api/run", json=heavy, timeout=60)
        quick = httpx.post(f"{url}/api/parse", json={"expression": "b^2"}, timeout=60)
        quick_at = time.perf_counter() - started
        slow_result = slow.result()
    assert quick.status_code == 200 and slow_result.status_code == 200
    assert quick_at < 5


# -- the page and its files ----------------------------------------------------------------------


def test_the_page_and_its_scripts_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    for src in (
        "/vendor/plotly.min.js",
        "/static/lab.js",
        "/static/page.js",
        "/static/i18n.js",
        "/static/lab.css",
    ):
        assert src in page.text or src == "/static/lab.js" or src == "/static/i18n.js"
        response = client.get(src)
        assert response.status_code == 200 and len(response.content) > 100, src
    assert "plotly.js v" in client.get("/vendor/plotly.min.js").text[:200]
    # FastAPI's interactive docs would load scripts from a CDN: only the schema is served.
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 200


def test_expressions_are_cached_per_text_so_compiled_code_is_reused(app):
    lab = app.state.lab
    assert lab.expression("(b/2-1)^2", None) is lab.expression("(b/2-1)^2", None)
    assert lab.expression("(b/2-1)^2", None) is not lab.expression("(b/2-1)^2", "cafe")
    assert lab.method("momentum", {"momentum": 0.5}) is lab.method("momentum", {"momentum": 0.5})
    assert lab.method("momentum", {"momentum": 0.9}) is gdlab.METHODS["momentum"]


def test_the_expression_cache_is_bounded():
    from gdlab.web._compute import Lab

    lab = Lab(WebLimits(cached_expressions=2))
    first = lab.expression("a+1", None)
    lab.expression("a+2", None)
    lab.expression("a+3", None)
    assert lab.expression("a+1", None) is not first


# -- serve -----------------------------------------------------------------------------------------


def test_loopback_hosts():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_serve_warns_when_others_can_reach_it(monkeypatch):
    import uvicorn

    import gdlab.web

    seen = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.append(self.config.host))
    with pytest.warns(ExposedServerWarning, match="other machines can reach"):
        gdlab.web.serve(host="0.0.0.0", port=0)  # port 0: a free one, whatever else runs here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdlab.web.serve(port=0)
    assert seen == ["0.0.0.0", "127.0.0.1"]


# -- schemathesis: no 500 and no schema violation ---------------------------------------------------


def test_schema_fuzzing_finds_no_server_error_and_no_schema_violation(url):
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings

    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    failures = []
    for operation in schema.get_all_operations():
        op = operation.ok()
        examples = 12 if op.path != "/api/export" else 4

        @given(case=op.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            response = case.call(timeout=60)
            if response.status_code >= 500:
                failures.append((case.path, case.body, response.status_code, response.text[:300]))
            else:
                checks = [
                    schemathesis.checks.response_schema_conformance,
                    schemathesis.checks.status_code_conformance,
                ]
                case.validate_response(response, checks=checks)

        check()
    assert not failures, failures
    assert math.isfinite(len(failures))


def test_the_page_checks_steps_against_the_servers_own_limit(client):
    """lab.js refuses too many steps before asking (keeping the picture); its limit is the server's."""
    script = client.get("/static/lab.js").text
    match = re.search(r"let MAX_STEPS = (\d+);", script)  # the fallback before /api/methods answers
    assert match and int(match.group(1)) == WebLimits().steps
    over = client.post("/api/run", json={**LECTURE, "rates": [0.1], "steps": WebLimits().steps + 1})
    assert over.status_code == 422 and detail(over).startswith("steps: ")  # the page puts it by Steps


@pytest.mark.parametrize(
    ("expression", "start"),
    [
        ("(x-1)^2", {"x": -1.0}),
        ("(1-x)^2 + 100*(y-x^2)^2", {"x": -1.0, "y": -1.0}),
        ("(b/2-1)^2", {"b": 1.0}),
    ],
)
def test_parse_suggests_a_start_where_the_gradient_is_not_zero(client, expression, start):
    response = client.post("/api/parse", json={"expression": expression})
    assert response.status_code == 200 and response.json()["start"] == start


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{not json", "the request is not valid JSON"),
        ('{"start": {"b": 1}, "rates": [0.5]}', "expression: missing: this request needs it"),
        ('{"expression": "", "start": {"b": 1}, "rates": [0.5]}', "expression: is empty: type something"),
        ('{"expression": "b^2", "data": "x", "start": {"b": 1}, "rates": [0.5]}', "data: 'x' is not one"),
    ],
)
def test_a_malformed_request_is_said_in_words_naming_the_fix(client, body, words):
    response = client.post("/api/run", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    said = detail(response)
    assert words in said and "Input should" not in said and "Field required" not in said


# -- every refusal's problems, as data beside the words -----------------------------------------

PHASE = {**LECTURE, "num": 2, "momentum_num": 2, "steps": 10}
SGD = {**CAFE, "rates": [0.001], "batch_size": 11}


@pytest.mark.parametrize(
    ("path", "body", "said"),
    [
        pytest.param(
            "/api/run",
            {**LECTURE, "rates": [0.1], "steps": 100_001},
            [("steps", "steps", "100001 must be 100000 or less", "at_most", 100_000)],
            id="over",
        ),
        pytest.param(
            "/api/run",
            {**LECTURE, "rates": [-1, 0.5], "epochs": 0},
            [
                ("rates.0", "rates", "-1 must be more than 0", "more_than", 0),
                ("epochs", "epochs", "0 must be 1 or more", "at_least", 1),
            ],
            id="under",
        ),
        pytest.param(
            "/api/phase",
            {**PHASE, "momentum_high": 1},
            [("momentum_high", "momentum_high", "1 must be less than 1", "less_than", 1)],
            id="under-less-than",
        ),
        pytest.param(
            "/api/run",
            {**LECTURE, "rates": [0.1], "steps": 10.5},
            [("steps", "steps", "10.5 is not a whole number: give one such as 100", "whole", None)],
            id="not-whole",
        ),
        pytest.param(
            "/api/run",
            {**LECTURE, "rates": [0.1], "stpes": 10},
            [("", None, "stpes: is not a field of this request: check its spelling", None, None)],
            id="unknown-field",
        ),
        pytest.param(
            "/api/run",
            {**LECTURE, "rates": [0.1], "method": "momentum", "hyper": {"b1": 0.5}},
            [("", "method", "momentum has no setting b1; its settings: momentum", None, None)],
            id="library-parameter",
        ),
        pytest.param(
            "/api/run",
            SGD,
            [("batch_size", "batch_size", "at most 10, the rows of the data; got 11", None, None)],
            id="web-field",
        ),
        pytest.param(
            "/api/parse",
            {"expression": "b+" * 3000},
            [("expression", "expression", "is 6,000 characters long: at most 2,000", None, None)],
            id="too-many-characters",
        ),
        pytest.param(
            "/api/run",
            {**LECTURE, "rates": [0.1], "start": {f"p{i}": 1 for i in range(21)}, "hyper": {"a" * 17: 0.5}},
            [
                ("start", "start", "has 21 items: at most 20", None, None),
                ("hyper.aaaaaaaaaaaaaaaaa", "hyper", "is 17 characters long: at most 16", None, None),
            ],
            id="too-many-items",
        ),
        pytest.param(
            "/api/run",
            {**LECTURE, "rates": []},
            [("rates", "rates", "is empty: give at least 1", None, None)],
            id="too-few-items",
        ),
    ],
)
def test_a_refusal_sends_its_problems_as_data_in_the_words_of_its_detail(client, path, body, said):
    """Each problem's text is the part of detail after its field's place, and a broken bound is
    sent as its rule and limit, for the page to say in its own language."""
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert set(answer) == {"detail", "problems"}
    assert answer["problems"] == [
        {"field": field, "text": text, "rule": rule, "limit": limit} for _, field, text, rule, limit in said
    ]
    assert answer["detail"] == "; ".join(f"{at}: {text}" if at else text for at, _, text, _, _ in said)


def test_broken_json_is_one_problem_of_no_field(client):
    response = client.post("/api/run", content=b"{not json", headers={"content-type": "application/json"})
    answer = response.json()
    assert response.status_code == 422
    assert (
        answer["detail"].startswith("the request is not valid JSON (")
        and "): send one JSON object" in (answer["detail"])
    )
    assert answer["problems"] == [{"field": None, "text": answer["detail"], "rule": None, "limit": None}]


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/api/none", 404), ("GET", "/api/run", 405)])
def test_an_unknown_address_or_method_is_refused_with_problems_too(client, method, path, status):
    response = client.request(method, path)
    answer = response.json()
    assert response.status_code == status and answer["detail"] in ("Not Found", "Method Not Allowed")
    assert answer["problems"] == [{"field": None, "text": answer["detail"], "rule": None, "limit": None}]


def test_the_schema_documents_the_problems_of_a_refusal(client):
    schema = client.get("/openapi.json").json()
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["detail", "problems"]
    problem = schema["components"]["schemas"]["ProblemOut"]
    assert set(problem["properties"]) == {"field", "text", "rule", "limit"}
    rules = problem["properties"]["rule"]["anyOf"][0]["enum"]
    assert rules == ["at_most", "at_least", "more_than", "less_than", "whole"]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("run", {**LECTURE, "rates": [0.1], "steps": 100_001}),
        ("run", {**LECTURE, "rates": [0.1], "method": "momentum", "hyper": {"b1": 0.5}}),
        ("run", SGD),
        ("sweep", {**LECTURE, "num": 401}),
    ],
)
def test_the_notebook_widget_refuses_as_the_server_does(client, name, body):
    """The widget answers the page from the kernel with the server's own refusal: the same words
    (the page's field names, rates for lr) and the same problems."""
    pytest.importorskip("anywidget")
    from gdlab.web._widget import LabWidget

    reply, _ = LabWidget(state={}).answer({"id": 3, "name": name, "payload": body})
    served = client.post(f"/api/{name}", json=body)
    assert served.status_code == reply["status"] == 422
    assert reply == {"id": 3, "ok": False, "status": 422, **served.json()}

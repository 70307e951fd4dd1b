"""One run, one reading: descend, sweep, the command line and the web page end a run alike.

The engine decides a run's status, regime and sentence together (:func:`gdlab._engine.judge`);
every driver and front end shows that decision. Each row of the table is a run of a kind a
learner meets (converging, overshooting, oscillating, diverging, stalling, no minimum, the step
limit) and the regime it must get.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import gdlab
from gdlab.cli import app
from gdlab.cli._options import CLI

# (loss, start, method, rate, steps, tol, the regime the engine must give, words in its sentence)
RUNS = [
    ("(b/2-1)^2", -10.0, "gd", 0.5, 1000, 1e-8, "converged", "converged at step"),
    ("(b/2-1)^2", -10.0, "gd", 3.9, 1000, 1e-8, "converged", "by overshooting back and forth"),
    ("(b/2-1)^2", -10.0, "gd", 4.0, 100, None, "oscillating", "bounces back and forth without settling"),
    ("(b/2-1)^2", -10.0, "gd", 5.0, 100, None, "diverged", "the loss exploded"),
    ("(b/2-1)^2", -10.0, "gd", 4.01, 1000, None, "diverged", "its bounces grow by 1.005 a step"),
    ("(b/2-1)^2", -10.0, "gd", 0.01, 100, None, "slow", "still descending (loss 36 -> 13.21)"),
    ("(b/2-1)^2", -10.0, "gd", 1e-20, 100, None, "slow", "the rate is too small to move"),
    ("(b/2-1)^2", -10.0, "gd", 3.99, 60, None, "slow", "it bounces back and forth, settling"),
    ("(b/2-1)^2", -10.0, "newton", None, 10, None, "converged", "it reached the minimum"),
    ("(b^2-1)^2", 0.0, "gd", 0.1, 100, 1e-8, "stalled", "at a maximum of the loss"),
    ("-b^2", 0.1, "gd", 0.1, 200, None, "diverged", "the loss may have no minimum"),
    ("abs(b)", 1.0, "gd", 0.3, 100, None, "oscillating", "without settling"),
    ("log(b)", 1.0, "gd", 0.5, 100, None, "diverged", "the region where the loss is defined"),
    ("(b/2-1)^2", -10.0, "adam", 0.5, 30, None, "slow", "still descending"),
]
IDS = [f"{r[0]}@{r[3]}-{r[6]}" for r in RUNS]


@pytest.fixture(scope="module")
def endings():
    """Each run through descend and through a one-rate sweep."""
    out = []
    for text, start, method, lr, steps, tol, *_ in RUNS:
        path = gdlab.descend(text, start, lr=lr, steps=steps, method=method, tol=tol)
        # a sweep varies the rate: a method that chooses its own steps is judged by descend alone
        sweep = (
            None if lr is None else gdlab.sweep(text, start, lrs=[lr], steps=steps, method=method, tol=tol)
        )
        out.append((path, sweep))
    return out


@pytest.mark.parametrize("i", range(len(RUNS)), ids=IDS)
def test_descend_and_sweep_give_one_status_regime_and_sentence(endings, i):
    *_, regime, words = RUNS[i]
    path, sweep = endings[i]
    assert str(path.regime) == regime, path.message
    assert words in path.message
    if sweep is not None:
        assert sweep.notes[0] == path.message
        assert (sweep.status[0], sweep.regime[0]) == (path.status, path.regime)
        assert sweep.trajectory(0).regime is path.regime


@pytest.mark.parametrize("i", range(len(RUNS)), ids=IDS)
def test_a_regime_never_contradicts_its_own_sentence(endings, i):
    path = endings[i][0]
    regime, note = str(path.regime), path.message
    if regime == "converged":
        assert "still descending" not in note and "without settling" not in note
        assert not note.startswith("diverged")
    if regime in ("slow", "oscillating"):
        assert not note.startswith(("converged", "diverged"))
    if note.startswith("converged"):
        assert regime in ("converged", "stalled")


@pytest.mark.parametrize("i", [0, 2, 5, 8], ids=[IDS[i] for i in (0, 2, 5, 8)])
def test_the_command_line_shows_the_library_sentence_with_its_options(endings, i):
    text, start, method, lr, steps, tol, *_ = RUNS[i]
    args = ["run", text, "--init", str(start), "--steps", str(steps), "--method", method, "--json"]
    args += ["--lr", str(lr)] if lr is not None else []
    args += ["--tol", str(tol)] if tol is not None else []
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    runs = shown.get("runs", [shown])
    path = endings[i][0]
    assert (runs[0]["status"], runs[0]["regime"]) == (path.status.value, path.regime.value)
    # the library's sentence, its parameters named as options: the step limit (--steps 100), --tol
    assert runs[0]["message"] == path.message_in(CLI)
    assert runs[0]["message"].replace("--steps ", "").replace("--tol", "tol").replace("--lr ", "") == (
        path.message.replace("raise the step limit", "raise --steps")
    ).replace("--steps ", "")


def test_the_page_shows_the_library_sentence(endings):
    from gdlab.web._compute import Lab
    from gdlab.web._models import RunIn

    lab = Lab()
    for i in (2, 4, 5):
        text, start, method, lr, steps, tol, *_ = RUNS[i]
        request = RunIn(expression=text, start={"b": start}, method=method, rates=[lr], steps=steps, tol=tol)
        shown = lab.run(request)["runs"][0]
        assert shown["message"] == endings[i][0].message
        assert shown["status"] == endings[i][0].status.value


def test_every_web_request_leaves_the_tolerance_at_the_librarys_default():
    """A run given without tol reads the same from /api/run, /api/descent and /api/sweep as from
    descend: each stops at its step limit (no tolerance), none at 1e-8 of its own."""
    from gdlab.web._models import DescentIn, PhaseIn, RunIn, SweepIn

    # a tolerance of 1e-8 would stop it near step 820; without one it runs to its step limit
    body = {"expression": "(b/3-1)^2", "start": {"b": 0.0}, "rates": [0.1], "steps": 900}
    path = gdlab.descend("(b/3-1)^2", 0.0, lr=0.1, steps=900)
    assert path.status.value == "max_steps" and "a tolerance (tol) stops it there" in path.message
    assert path.status.value == "max_steps"
    for model in (RunIn, DescentIn, SweepIn, PhaseIn):
        assert model(**{k: v for k, v in body.items() if k in model.model_fields}).tol is None
    import httpx

    from gdlab.web import create_app
    from gdlab.web._server import running

    with running(create_app()) as base, httpx.Client(base_url=base, timeout=60) as client:
        for route in ("/api/run", "/api/descent", "/api/sweep"):
            answer = client.post(route, json=body)
            assert answer.status_code == 200, answer.text
            found = answer.json()
            run = found["runs"][0] if "runs" in found else found
            message = run.get("message") or run.get("note")
            assert message == path.message, route


def test_the_lecture_matrix_form_runs_alike_on_the_page_and_the_command_line():
    """X is the cafe data's design matrix wherever the loss is typed: a library rule, not the CLI's."""
    from gdlab.web._compute import Lab
    from gdlab.web._models import RunIn, SweepIn

    text = "(y - X@beta).T @ (y - X@beta)"
    page = Lab().run(RunIn(expression=text, data="cafe", start={"beta": [9, 2]}, rates=[1e-5], steps=100))
    args = ["run", text, "--init", "beta=[9,2]", "--lr", "1e-5", "--data", "cafe", "--steps", "100", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert page["params"] == ["beta"]
    assert page["runs"][0]["final"] == cli["final"]
    assert cli["final"]["beta[0]"] == pytest.approx(9.010217055137339, rel=1e-12)
    # and the same loss through the library with the cafe data bound by the same rule
    from gdlab._bind import parse_with_data

    path = gdlab.descend(parse_with_data(text, "cafe"), {"beta": [9.0, 2.0]}, lr=1e-5, steps=100)
    assert page["runs"][0]["message"] == path.message
    sweep = Lab().sweep(
        SweepIn(expression=text, data="cafe", start={"beta": [9, 2]}, low=1e-6, high=1e-5, num=3, steps=50)
    )
    assert len(sweep["runs"]) == 3


def test_a_vector_start_of_the_wrong_length_is_refused_on_the_page():
    from gdlab.web._compute import Lab
    from gdlab.web._models import RunIn

    with pytest.raises(gdlab.InputError, match="the start: the loss cannot be computed at these values"):
        Lab().run(
            RunIn(
                expression="(y - X@beta).T @ (y - X@beta)",
                data="cafe",
                start={"beta": [9, 2, 1]},
                rates=[1e-5],
                steps=10,
            )
        )


def test_the_page_and_the_pictures_colour_runs_and_regimes_alike():
    """One table of colours: the pictures' and the page's (from /api/methods)."""
    from gdlab._colours import run_style
    from gdlab.render._sweep import REGIME_COLORS
    from gdlab.web._compute import Lab

    sent = Lab.methods()["regime_colours"]
    assert sent == {regime.value: colour for regime, colour in REGIME_COLORS.items()}
    assert set(sent) == {r.value for r in gdlab.Regime}
    runs = Lab.methods()["run_colours"]  # run i is the same colour on the page and in a GIF
    assert len(runs) == 12 and runs == [run_style(i).colour for i in range(12)]


@pytest.mark.parametrize(("init", "steps"), [(-5.0, 700), (-10.0, 1500), (-5.003, 1000)])
def test_the_sign_method_bouncing_at_the_minimum_is_within_a_step_not_growing(init, steps):
    """A fixed step lands within one step of 2 and crosses it back and forth; when it lands
    within 1e-14 (from -5 at 0.01, step 700) the next gradients are 0.005: no growth."""
    path = gdlab.descend("(b/2-1)^2", init, lr=0.01, steps=steps, method="sign")
    assert abs(float(path.final) - 2.0) <= 0.01 + 1e-12
    assert path.regime is gdlab.Regime.CONVERGED and path.status is gdlab.Status.MAX_STEPS
    assert "grow" not in path.message and "within one step (0.01)" in path.message
    swept = gdlab.sweep("(b/2-1)^2", init, lrs=[0.01], steps=steps, method="sign").trajectory(0)
    assert swept.message == path.message and swept.regime is path.regime


def test_a_first_step_that_lands_on_the_minimum_is_no_overshoot():
    """A step that lands on the minimum leaves a gradient of rounding, of either sign: no driver
    says the run "got there by overshooting back and forth" (gd on one standardised regressor, at
    the rate 2/(mu+L), lands in one step; its gradient was 1e-14 the other way). One rule,
    gdlab._engine.overshoots, for the fits' and descents' record and for the sweep's compiled
    runs alike; a real overshoot is still said."""
    import jax.numpy as jnp
    import numpy as np

    from gdlab._engine import overshoots

    for xp in (np, jnp):
        assert not bool(overshoots(xp.asarray(-1e-14), xp.asarray(10.0), xp.asarray(1.46e-14), xp))
        assert bool(overshoots(xp.asarray(-3.0), xp.asarray(10.0), xp.asarray(0.5), xp))
        assert not bool(overshoots(xp.asarray(2.0), xp.asarray(10.0), xp.asarray(0.5), xp))
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 50)
    data = {"x": x, "y": 50 - 4 * x + rng.normal(size=50)}
    for method in ("gd", "momentum", "newton"):
        landed = gdlab.fit(data, y="y", x="x", method=method)
        assert landed.steps == 1 and "overshooting" not in landed.trajectory.message, method
    # the lecture's loss at 1.5 / L: a real overshoot, said by descend and by the sweep alike
    said = gdlab.descend("(b/2-1)^2", -10.0, lr=3.0, steps=200, tol=1e-8).message
    assert said.endswith("it got there by overshooting back and forth")
    swept = gdlab.sweep("(b/2-1)^2", -10.0, lrs=[3.0], steps=200, tol=1e-8)
    assert swept.notes[0] == said

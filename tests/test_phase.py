"""gdlab.phase: (rate, momentum) grids in one compiled call, against the theory and against descend."""

import json
import math

import numpy as np
import optax
import pytest
from typer.testing import CliRunner

import gdlab
from gdlab.cli._app import app
from helpers import lecture_loss

runner = CliRunner()


def stiff(p):
    """0.5 (x^2 + 100 y^2): eigenvalues 1 and 100, condition number 100."""
    return 0.5 * (p[0] ** 2 + 100 * p[1] ** 2)


def heavy_ball_stable(lrs, momenta, eigenvalues):
    """The theory, written here independently: 0 <= b < 1 and 0 < lr*e < 2(1 + b) for every eigenvalue e."""
    lr, b = np.asarray(lrs)[:, None], np.asarray(momenta)[None, :]
    inside = [(lr * e > 0) & (lr * e < 2 * (1 + b)) for e in eigenvalues]
    return np.all(inside, axis=0) & (b >= 0) & (b < 1)


def nesterov_stable(lrs, momenta, eigenvalues):
    """Nesterov (optax's form): 0 < lr*e < 2(1 + b)/(1 + 2b) for every e."""
    lr, b = np.asarray(lrs)[:, None], np.asarray(momenta)[None, :]
    return np.all([(lr * e > 0) & (lr * e < 2 * (1 + b) / (1 + 2 * b)) for e in eigenvalues], axis=0)


def next_to_boundary(stable):
    """Cells with a neighbour (sideways or diagonal) on the other side of the theory's boundary."""
    padded = np.pad(stable, 1, mode="edge")
    rows, cols = stable.shape
    near = np.zeros_like(stable)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            near |= padded[1 + di : 1 + di + rows, 1 + dj : 1 + dj + cols] != stable
    return near


def check_against_theory(result, stable):
    """Every cell away from the boundary: converged or slow where the theory says it converges,
    diverged where it says it diverges. Returns how many cells were checked."""
    away = ~next_to_boundary(stable)
    wrong = []
    for i, j in zip(*np.nonzero(away), strict=True):
        regime = result.regime[i, j]
        ok = regime in ("converged", "slow") if stable[i, j] else regime == "diverged"
        if not ok:
            wrong.append(f"lr={result.lrs[i]:.4g} b={result.momenta[j]:.4g}: {regime}: {result.notes[i, j]}")
    assert not wrong, f"{len(wrong)} cells disagree with the theory:\n" + "\n".join(wrong[:10])
    return int(away.sum())


# 1,000 steps: far enough from the boundary (one cell of 60 log-spaced rates is 17%), a stable run
# has converged or is still settling, and an unstable one has grown by (1.05 or more)^1000 and exploded.
STEPS = 1000
LRS_1D = gdlab.rates(1e-3, 10, 60)
MOMENTA = np.linspace(0, 0.99, 34)


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
def test_the_lecture_loss_agrees_with_the_theory_on_every_cell_away_from_the_boundary(method):
    result = gdlab.phase(lecture_loss, -10.0, lrs=LRS_1D, momenta=MOMENTA, method=method, steps=STEPS)
    stable = (heavy_ball_stable if method == "momentum" else nesterov_stable)(LRS_1D, MOMENTA, [0.5])
    assert result.regime.shape == (60, 34)
    checked = check_against_theory(result, stable)
    assert checked > 0.85 * stable.size
    assert stable.sum() > 500 and (~stable).sum() > 100  # both sides of the boundary are on the grid
    # The library's own boundary is the same one, and says the same about agreement.
    assert np.array_equal(result.boundary.stable, stable)
    assert result.agreement() == {"cells": checked, "agree": checked}
    if method == "momentum":
        np.testing.assert_allclose(result.boundary.critical_lrs, 2 * (1 + MOMENTA) / 0.5, rtol=1e-12)
        assert result.boundary.best == pytest.approx((2.0, 0.0))  # 1/L with no momentum: one step


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
def test_a_quadratic_with_condition_number_100_agrees_with_the_theory(method):
    lrs = gdlab.rates(1e-4, 0.1, 50)
    result = gdlab.phase(stiff, np.array([1.0, 1.0]), lrs=lrs, momenta=MOMENTA, method=method, steps=STEPS)
    stable = (heavy_ball_stable if method == "momentum" else nesterov_stable)(lrs, MOMENTA, [1.0, 100.0])
    check_against_theory(result, stable)
    assert set(np.unique(result.regime)) >= {"converged", "slow", "diverged"}
    assert result.boundary.stability.condition == pytest.approx(100)
    lr, b = result.boundary.best
    if method == "momentum":  # Polyak: 4/(sqrt(L) + sqrt(mu))^2, ((sqrt(k) - 1)/(sqrt(k) + 1))^2
        assert (lr, b) == pytest.approx((4 / 121, (9 / 11) ** 2))
    else:  # 4/(3L + mu), (sqrt(3k + 1) - 2)/(sqrt(3k + 1) + 2)
        assert (lr, b) == pytest.approx((4 / 301, (math.sqrt(301) - 2) / (math.sqrt(301) + 2)))


def test_the_theory_check_fails_on_a_wrong_boundary():
    # The check above can fail: the same runs against a boundary at half the true rate disagree.
    result = gdlab.phase(lecture_loss, -10.0, lrs=LRS_1D, momenta=MOMENTA, steps=STEPS)
    wrong = heavy_ball_stable(LRS_1D, MOMENTA, [1.0])
    with pytest.raises(AssertionError, match="cells disagree with the theory"):
        check_against_theory(result, wrong)


@pytest.mark.parametrize("method", ["momentum", "nesterov", "adam"])
def test_each_cell_is_the_same_run_as_descend(method):
    lrs, momenta = [1e-3, 0.02, 0.5, 30.0], [0.0, 0.3, 0.95]
    start = np.array([1.0, -2.0])
    result = gdlab.phase(stiff, start, lrs=lrs, momenta=momenta, method=method, steps=300)
    setting = result.setting
    assert setting == ("b1" if method == "adam" else "momentum")
    for i, lr in enumerate(lrs):
        for j, b in enumerate(momenta):
            spec = gdlab.METHODS[method].configured(**{setting: b})
            path = gdlab.descend(stiff, start, lr=lr, steps=300, method=spec)
            where = f"lr={lr}, {setting}={b}"
            assert result.regime[i, j] == path.regime.value, where
            assert result.notes[i, j] == path.message, where
            assert result.steps_taken[i, j] == path.steps, where
            if math.isfinite(path.final_loss):
                assert result.final_loss[i, j] == pytest.approx(path.final_loss, rel=1e-10, abs=1e-300)
                norm = float(np.linalg.norm(path.grad[-1]))
                assert result.final_grad_norm[i, j] == pytest.approx(norm, rel=1e-10, abs=1e-300)
            else:
                assert not math.isfinite(result.final_loss[i, j]), where


def test_adam_over_rate_and_b1_is_measured_without_a_boundary():
    lrs, b1 = gdlab.rates(1e-3, 10, 12), np.linspace(0, 0.95, 6)
    result = gdlab.phase(stiff, np.array([1.0, 1.0]), lrs=lrs, momenta=b1, method="adam", steps=400)
    assert result.setting == "b1" and result.method == "adam"
    assert set(np.unique(result.regime)) <= {r.value for r in gdlab.Regime}
    assert result.boundary is None and result.agreement() is None
    assert "no closed-form stability boundary" in result.theory_note
    assert result.regime[0, 0] == "slow"  # lr 1e-3 moves at most 0.4 in 400 steps from 1
    assert (result.regime == "converged").any()
    assert "adam" in repr(result) and "b1" in repr(result)
    # Adam with another b2 varies b1 with that b2 kept.
    other = gdlab.METHODS["adam"].configured(b2=0.9)
    changed = gdlab.phase(stiff, np.array([1.0, 1.0]), lrs=lrs[:3], momenta=b1[:2], method=other, steps=50)
    path = gdlab.descend(stiff, np.array([1.0, 1.0]), lr=lrs[2], steps=50, method=other.configured(b1=b1[1]))
    assert changed.final_loss[2, 1] == pytest.approx(path.final_loss, rel=1e-10)


def test_a_loss_that_is_not_a_quadratic_gets_no_boundary_and_says_why():
    result = gdlab.phase(lambda b: b**4 / 4 + b**2, 1.0, lrs=[0.01, 0.1], momenta=[0, 0.5], steps=100)
    assert result.boundary is None
    assert "not a quadratic" in result.theory_note
    saddle = gdlab.phase(
        lambda p: p[0] ** 2 - p[1] ** 2, np.array([1.0, 1.0]), lrs=[0.1], momenta=[0], steps=20
    )
    assert saddle.boundary is None and "no minimum" in saddle.theory_note
    wide = gdlab.phase(lambda p: (p**2).sum(), np.ones(1500), lrs=[0.5, 3], momenta=[0], steps=50)
    assert wide.boundary is None and "more than 1,000: its dense Hessian" in wide.theory_note
    assert wide.regime.tolist() == [["converged"], ["diverged"]]


def test_to_dict_is_strict_json_and_round_trips():
    result = gdlab.phase(lecture_loss, -10.0, lrs=[0.1, 5, 100], momenta=[0, 0.5, 0.9], steps=200)
    out = result.to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert out["regime"] == result.regime.tolist()
    assert np.array(out["notes"]).shape == (3, 3)
    assert out["notes"][2][0].startswith("diverged at step")
    assert out["final_loss"][2][0] is None or math.isfinite(out["final_loss"][2][0])  # inf is null
    assert out["theory"]["critical_lrs"] == [4.0, 6.0, pytest.approx(7.6)]
    assert out["theory"]["best"] == {"lr": pytest.approx(2.0), "momentum": 0.0}
    assert sum(out["counts"].values()) == 9
    assert "notes" not in result.to_dict(notes=False)


def test_the_picture_has_the_regime_map_the_boundary_and_the_fastest_pair(tmp_path):
    result = gdlab.phase(lecture_loss, -10.0, lrs=gdlab.rates(1e-2, 10, 20), momenta=MOMENTA[:10], steps=200)
    figure = gdlab.plot(result)
    ax = figure.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "learning rate"
    lines = ax.get_lines()
    boundary = next(line for line in lines if line.get_linestyle() == "--")
    xs, ys = boundary.get_data()
    np.testing.assert_allclose(xs, 2 * (1 + ys) / 0.5)
    assert any(line.get_marker() == "*" for line in lines)
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert any(text.startswith("converged") for text in labels) and any("theory" in t for t in labels)
    path = gdlab.save_figure(result.plot(), tmp_path / "phase.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    adam = gdlab.phase(lecture_loss, -10.0, lrs=[0.1, 1], momenta=[0, 0.9], method="adam", steps=50)
    assert not [line for line in gdlab.plot(adam).axes[0].get_lines() if line.get_linestyle() == "--"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"lrs": []}, "lrs must be a non-empty list of rates"),
        ({"lrs": [0.1, -1]}, "every rate in lrs must be a finite number > 0"),
        ({"momenta": []}, "momenta must be a non-empty list"),
        ({"momenta": [0.5, 1.0]}, r"every value in momenta must be in \[0, 1\).*got 1"),
        ({"momenta": [-0.1]}, r"must be in \[0, 1\).*got -0.1"),
        ({"momenta": "0.9"}, "momenta must be a list"),
        ({"method": "gd"}, "method='gd' has no momentum setting to vary.*momentum, nesterov, adam"),
        ({"method": "lbfgs"}, "has no momentum setting"),
        ({"method": optax.adam}, "method is an optax transformation or factory.*pass method='adam'"),
        ({"steps": -1}, "steps must be a whole number >= 0"),
        ({"lrs": np.ones(1001), "momenta": np.linspace(0, 0.9, 1000)}, "1,001,000 runs.*at most 1,000,000"),
        (
            {"init": np.zeros(100_000), "lrs": np.ones(10), "momenta": np.linspace(0, 0.9, 10)},
            "80,000,000 numbers held by the runs.*fewer rates or momenta",
        ),
    ],
)
def test_bad_input_is_an_input_error_that_names_the_problem(changes, words):
    settings = {"init": -10.0, "lrs": [0.1], "momenta": [0.5], "steps": 10} | changes
    init = settings.pop("init")
    loss = (lambda p: p[0] ** 2) if np.ndim(init) else lecture_loss
    with pytest.raises(gdlab.InputError, match=words):
        gdlab.phase(loss, init, **settings)


def test_the_command_line_prints_json_with_every_cell():
    args = ["phase", "(b/2-1)^2", "--init", "-10", "--lrs", "1e-2:10:log8", "--momenta", "0:0.9:4"]
    result = runner.invoke(app, [*args, "--steps", "300", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["expression"] == "(b/2-1)**2" and out["method"] == "momentum"
    assert np.array(out["regime"]).shape == (8, 4)
    assert out["theory"]["formula"].startswith("momentum converges on this quadratic")
    assert out["agreement"]["cells"] == out["agreement"]["agree"]
    slow = [n for row in out["notes"] for n in row if "step limit" in n]
    assert slow and all("(--steps 300)" in n for n in slow)  # the notes name the options as typed


def test_the_command_line_table_picture_and_errors(tmp_path):
    out = tmp_path / "phase.png"
    args = ["phase", "(b/2-1)^2", "--init", "-10", "--lrs", "1e-3:10", "--steps", "200", "--out", str(out)]
    result = runner.invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "50 rates x 50 momentum values" in result.output and "theory: up to lr" in result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    adam = runner.invoke(app, [*args[:5], "1e-2:1:log5", "--momenta", "0,0.9", "--method", "adam"])
    assert adam.exit_code == 0 and "no closed-form stability boundary" in adam.output
    for bad, words in (
        (["--momenta", "0:1.5"], "--momenta 0:1.5: every momentum must be in [0, 1)"),
        (["--momenta", "0,,0.5"], "a momentum is missing between commas"),
        (["--lrs", "-1:10"], "--lrs -1:10: write low:high:count with 0 < low < high"),
        (["--method", "gd"], "--method gd has no momentum setting"),
        (["--out", str(tmp_path / "x.gif")], ".gif is not supported here"),
    ):
        result = runner.invoke(app, [*args[:5], "1e-2:1:log5", "--steps", "10", *bad])
        assert result.exit_code == 2, (bad, result.output)
        assert words in result.output, result.output

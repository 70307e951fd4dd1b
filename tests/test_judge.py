"""One rule, two readers: the judge of one run and the judge of a batch give every run the same ending.

The engine's rules (``gdlab._engine.RULES``) are read by :func:`judge` one run at a time (the
first rule that holds, tried in order on NumPy scalars) and by :func:`classify` for a whole batch
at once (every rule over arrays, the first that holds per run). The oracle here is the one-run
judge, run over facts made to sit on and around every threshold, and over real sweeps.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gdlab
from gdlab._engine import (
    PROBE,
    REGIMES,
    RULES,
    STATUSES,
    Facts,
    Notes,
    Outcome,
    Probe,
    Runs,
    classify,
    judge,
    rule_of,
)

# Values on and around the rules' thresholds, and the ones that break arithmetic.
LOSSES = [0.0, 1.0, 1.0 + 1e-9, 1.0 - 2e-9, 36.0, -1e11, 1e11, math.inf, -math.inf, math.nan, 5e-32]
NORMS = [0.0, 1e-20, 1e-8, 2e-8, 0.1, 1.0, 6.0, 95.0, math.inf, math.nan]
RATIOS = [0.0, 0.5, (1 - 1e-9) ** 15, (1 - 1e-6) ** 15, 1.0, (1 + 1e-6) ** 15 * 1.001, 1.02, 2.0]


def _random_facts(rng: np.random.Generator, method: str, dtype: str, lr: float | None) -> Facts:
    pick = lambda values: values[rng.integers(len(values))]
    g0, g1 = pick(NORMS), pick(NORMS)
    probe = None
    if rng.random() < 0.85:
        pairs = int(rng.integers(0, PROBE))
        start = pick([g1, *NORMS])
        probe = Probe(
            flips=int(rng.integers(0, pairs + 1)),
            start=start,
            end=start * pick(RATIOS) if math.isfinite(start) else pick(NORMS),
            moved=bool(rng.random() < 0.7),
            pairs=pairs,
        )
    curvature = None
    if rng.random() < 0.4:
        curvature = (pick([-1.0, -1e-9, 0.0, 0.5, math.nan]), pick([-0.5, 0.0, 1e-9, 2.0, math.inf]))
    return Facts(
        outcome=Outcome(int(rng.integers(0, len(Outcome)))),
        step=int(pick([0, 1, 100])),
        losses=(pick(LOSSES), pick(LOSSES)),
        grad_norms=(g0, g1),
        not_finite=pick(["", "loss", "gradient", "parameters"]),
        lr=lr,
        tol=None,
        method=method,
        dtype=dtype,
        probe=probe,
        overshot=bool(rng.random() < 0.3),
        curvature=curvature,
        undefined=bool(rng.random() < 0.2),
    )


@pytest.mark.parametrize(
    ("method", "dtype", "lr"),
    [
        ("gd", "float64", 0.1),
        ("sign", "float64", 0.01),
        ("sign", "float32", None),
        ("newton", "float32", None),
    ],
)
def test_a_batch_is_judged_as_its_runs_one_by_one(method, dtype, lr):
    rng = np.random.default_rng(7)
    facts = [_random_facts(rng, method, dtype, lr) for _ in range(3000)]
    batch = Runs.stack(facts)
    rules = classify(batch)
    one_by_one = [rule_of(f) for f in facts]
    assert rules.tolist() == one_by_one
    notes = Notes(batch, rules)
    for i in range(0, len(facts), 7):
        ending = judge(facts[i])
        assert (ending.status, ending.regime, ending.sentence) == (
            STATUSES[rules[i]],
            REGIMES[rules[i]],
            notes[i],
        )
        assert repr(batch[i]) == repr(facts[i])  # the columns give back each run's facts (NaN too)
    # nearly every rule is met, so the comparison covers them (not one rule many times)
    assert len(set(one_by_one)) >= len(RULES) - 6, sorted({RULES[i].name for i in one_by_one})


def test_a_sweeps_runs_are_judged_as_descend_judges_one_run():
    lrs = gdlab.rates(1e-4, 6, 60)
    for tol, save in itertools.product((None, 1e-8), ("final", "auto")):
        result = gdlab.sweep("(b/2-1)^2", -10.0, lrs=lrs, steps=300, tol=tol, save=save)
        for i in range(len(result)):
            ending = judge(result.facts[i])
            assert (ending.status, ending.regime, ending.sentence) == (
                result.status[i],
                result.regime[i],
                result.notes[i],
            )
        assert len(set(result.regime)) >= 3


def test_notes_are_worded_when_read_and_kept_on_their_result_alone():
    lrs = [0.5, 4.0, 5.0]
    first = gdlab.sweep("(b/2-1)^2", -10.0, lrs=lrs, steps=200, tol=1e-8)
    second = gdlab.sweep("(b/2-1)^2", -10.0, lrs=lrs, steps=200, tol=1e-8)
    assert first.notes[2] is first.notes[2]  # kept once worded
    assert first.notes == second.notes == list(second.notes)  # the same words for the same runs
    assert first.notes[-1] == first.notes[2] and first.notes[1:] == [first.notes[1], first.notes[2]]
    assert first.to_dict()["runs"][1]["note"] == first.notes[1]
    with pytest.raises(IndexError):
        first.notes[3]
    grid = gdlab.phase("(b/2-1)^2", -10.0, lrs=[1, 5, 13], momenta=[0, 0.5], steps=500)
    assert grid.notes.shape == (3, 2) and len(grid.notes) == 3
    assert grid.notes[1] == [grid.notes[1, 0], grid.notes[1, 1]]
    assert grid.notes.tolist() == grid.to_dict()["notes"]
    assert grid.notes[2, -1].startswith("diverged at step")

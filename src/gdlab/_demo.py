"""``gdlab demo``: the lecture's numbers (see :mod:`gdlab._lecture`) and its pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gdlab._checks import InputError
from gdlab._descend import descend
from gdlab._grid import grid_search
from gdlab._lecture import HOMEWORK_LR, LECTURE_LR, homework_loss, lecture_loss

# Rates on (b/2-1)^2, whose 2/L is 4: converges, lands in one step, oscillates, diverges.
RATES = (0.5, 2.0, 4.0, 5.0)
# First and second order on (b/2-1)^2: (method, rate); newton and lbfgs choose their own steps.
LECTURE_METHODS = (("gd", 0.5), ("momentum", 0.5), ("adam", 1.0), ("newton", None), ("lbfgs", None))
# The cafe regression on its raw columns (the lecture's ill-conditioned problem), from (0, 0).
CAFE_METHODS = ("gd", "momentum", "adam", "newton", "lm")
CAFE_STEPS = 2000


def output_folder(folder: str | Path) -> Path:
    """Create ``folder`` (and its parents) or say why it cannot be used."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path} is a file; give a folder for the pictures")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the folder {path}: {err.strerror}") from err
    return path


def lecture_pictures(folder: str | Path) -> list[Path]:
    """Write the lecture's pictures into ``folder``; return their paths, in lecture order."""
    from gdlab import animate, plot, plot_grid, save_figure

    out = output_folder(folder)
    written = []
    slopes = [descend(lecture_loss, b, lr=LECTURE_LR, steps=0) for b in (-10.0, -4.0)]
    curve = plot(
        slopes,
        tangent=True,
        xlim=(-15, 19),
        labels=["b = -10", "b = -4"],
        title="loss (b/2-1)^2: the slope says which way is down",
    )
    written.append(save_figure(curve, out / "loss_curve.png"))
    grid = grid_search(lecture_loss, np.linspace(-10, 10, 100))
    written.append(save_figure(plot_grid(grid), out / "grid_search.png"))
    slow = descend(lecture_loss, -10.0, lr=LECTURE_LR, steps=10000)
    movie = animate(
        slow, frames=100, spacing="log", history=True, title="lr = 0.01/6, 10,000 steps (log-spaced frames)"
    )
    written.append(movie.save(out / "descent_lr_0.01_6.gif"))
    rates = [descend(lecture_loss, -10.0, lr=lr, steps=40) for lr in RATES]
    race = animate(rates, layout="panels", frames=41, fps=8, title="learning rates around 2/L = 4")
    written.append(race.save(out / "learning_rates.gif"))
    written.append(save_figure(plot(rates, history=True, tangent=False), out / "learning_rates.png"))
    homework = descend(homework_loss, -3.0, lr=HOMEWORK_LR, steps=100)
    written.append(
        animate(homework, xlim=(-4, 3), title="homework: (x-1)^2 from -3, lr = 0.01/3").save(
            out / "homework.gif"
        )
    )
    written += _learning_rate_lab(out)
    written += _methods(out)
    return written


def _methods(out: Path) -> list[Path]:
    """First- and second-order methods side by side: on the lecture's loss, on the cafe regression,
    and gd's fitted line moving over the cafe data."""
    from gdlab import animate, datasets, plot, save_figure
    from gdlab._text import count
    from gdlab.fitting._fit import fit

    said = lambda name, t: f"{name}: {count(t.steps, 'step')}, {t.status.value}"  # noqa: E731
    paths = [descend(lecture_loss, -10.0, lr=lr, method=m, steps=100, tol=1e-8) for m, lr in LECTURE_METHODS]
    picture = plot(
        paths,
        layout="panels",
        history=True,
        tangent=False,
        labels=[said(p.label, p) for p in paths],
        title="(b/2-1)^2 from b = -10, at most 100 steps: first-order methods, then second-order ones",
    )
    written = [save_figure(picture, out / "methods_lecture.png")]
    X = datasets.cafe().X
    one_over_L = 1 / float(np.linalg.eigvalsh(2 * X.T @ X / len(X))[-1])  # gd's rate without zigzag
    fits = [
        fit(
            "cafe",
            y="y",
            x="x",
            method=m,
            lr=one_over_L if m == "gd" else None,
            standardize=False,
            steps=CAFE_STEPS,
        )
        for m in CAFE_METHODS[:-1]
    ]
    fits.append(fit("cafe", y="y", model="b0 + b1*x", method="lm", init={"b0": 0.0, "b1": 0.0}))
    names = ("gd, lr 1/L", "momentum, lr 1/L", "adam, lr 0.1", "newton", "lm (formula b0 + b1*x)")
    cafe = plot(
        fits,
        labels=[said(n, f.trajectory) for n, f in zip(names, fits, strict=True)],
        title="cafe: y ~ x on the raw columns from (0, 0), each method's path over the mean squared "
        "residual; the star is the least-squares solution",
    )
    written.append(save_figure(cafe, out / "methods_cafe.png"))
    gd = fit("cafe", y="y", x="x", method="gd", lr=0.05)
    movie = animate(
        gd, frames=60, spacing="log", title="cafe: gd at lr 0.05 on standardised x (log-spaced frames)"
    )
    written.append(movie.save(out / "fit_cafe.gif"))
    return written


def _learning_rate_lab(out: Path) -> list[Path]:
    """Sweeps of both losses with their 2/L, and the homework done stochastically."""
    import jax.numpy as jnp

    from gdlab import animate, datasets, plot_sweep, save_figure
    from gdlab._sgd import sgd
    from gdlab._sweep import rates, sweep

    lecture = sweep(lecture_loss, -10.0, lrs=rates(1e-3, 10, 80), steps=1000, tol=1e-8)
    written = [
        save_figure(
            plot_sweep(lecture, title="(b/2-1)^2: 80 rates, 1,000 steps each"), out / "sweep_lecture.png"
        )
    ]
    cafe = datasets.cafe()
    data = {"x": cafe.x, "y": cafe.y}
    sse = lambda b: jnp.sum((cafe.y - b[0] - b[1] * cafe.x) ** 2)  # noqa: E731
    regression = sweep(sse, np.array([9.0, 2.0]), lrs=rates(1e-6, 1e-3, 60), steps=5000, tol=1e-6)
    written.append(
        save_figure(plot_sweep(regression, title="cafe sum of squares: 60 rates"), out / "sweep_cafe.png")
    )
    mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x"]) ** 2)  # noqa: E731
    start = np.array([9.0, 2.0])
    paths = [
        sgd(mse, start, data, lr=1e-3, batch_size=2, epochs=40, seed=0),
        sgd(mse, start, data, lr=1e-3, epochs=200),
    ]
    movie = animate(
        paths,
        frames=100,
        labels=["minibatches of 2 rows", "all 10 rows"],
        title="homework, stochastically: SGD on the cafe data",
    )
    written.append(movie.save(out / "sgd_cafe.gif"))
    return written

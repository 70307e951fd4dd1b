"""gdlab.animate(fit): the data, the fitted curve at each step, the residuals; and its errors."""

import io

import numpy as np
import pytest
from PIL import Image

import gdlab
from gdlab._checks import InputError


@pytest.fixture(scope="module")
def cafe_gd():
    return gdlab.fit("cafe", y="y", x="x", method="gd", lr=0.05)


@pytest.fixture(scope="module")
def movie(cafe_gd):
    return gdlab.animate(cafe_gd, frames=12, spacing="log", size=(800, 360))


def artist(movie, gid):
    found = [a for a in movie.scene.moving if a.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def cafe_xy():
    cafe = gdlab.datasets.cafe()
    return np.asarray(cafe.x, float), np.asarray(cafe.y, float)


def test_the_curve_at_each_frame_is_the_coefficient_paths_line(cafe_gd, movie):
    path = cafe_gd.coefficient_path()
    assert cafe_gd.steps > 100 and movie.steps[-1] == cafe_gd.steps and len(movie) == 12
    curve = artist(movie, "fitted")
    x, _ = cafe_xy()
    for step in movie.steps:
        movie.scene.update(int(step))
        grid, shown = curve.get_data()
        assert grid[0] == pytest.approx(x.min()) and grid[-1] == pytest.approx(x.max())
        np.testing.assert_allclose(shown, path[step, 0] + path[step, 1] * np.asarray(grid), rtol=1e-12)
    # the first frame is the start (all zero), the last the fitted coefficients
    assert np.all(path[0] == 0)
    np.testing.assert_allclose(path[-1], cafe_gd.coef)


def test_residuals_are_y_minus_the_fitted_values_at_that_step(cafe_gd, movie):
    x, y = cafe_xy()
    points = artist(movie, "residuals")
    path = cafe_gd.coefficient_path()
    for step in (0, int(movie.steps[5]), cafe_gd.steps):
        movie.scene.update(step)
        xs, rs = points.get_data()
        np.testing.assert_allclose(xs, x)
        np.testing.assert_allclose(rs, y - (path[step, 0] + path[step, 1] * x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(rs, y - cafe_gd.predict({"x": x}), atol=1e-9)
    assert np.max(np.abs(rs)) < 3  # the fitted line is close to every point
    movie.scene.update(0)
    assert np.all(points.get_data()[1] == y)  # from zero, the residuals are the data


def test_the_info_line_says_step_loss_and_coefficients(cafe_gd, movie):
    info = artist(movie, "info")
    step = int(movie.steps[6])
    movie.scene.update(step)
    loss = float(cafe_gd.trajectory.loss[step])
    b = cafe_gd.coefficient_path()[step]
    assert info.get_text() == (
        f"step {step:,} / {cafe_gd.steps:,}   mean squared residual {loss:.4g}\n"
        f"intercept {b[0]:.4g}, x {b[1]:.4g}"
    )
    away = next(a for a in movie.scene.texts if a is not info)
    movie.scene.update(0)  # the line y = 0 is far below the cafe's sales
    assert away.get_text() == "gd's curve is below the chart (at 0)"
    movie.scene.update(cafe_gd.steps)
    assert away.get_text() == ""
    assert info.get_text() == (
        f"step {cafe_gd.steps} / {cafe_gd.steps}   mean squared residual 0.9495\n"
        f"intercept 9.945, x 2.216\nconverged at step {cafe_gd.steps}"
    )


def test_gif_has_one_frame_per_step_shown_and_the_curve_moves(movie):
    with Image.open(io.BytesIO(movie.to_bytes("gif"))) as image:
        assert image.n_frames == 12 and image.size == (800, 360)
    first, last = movie.frame(0)[..., :3].astype(int), movie.frame(-1)[..., :3].astype(int)
    from gdlab._colours import FIT_COLOURS

    rgb = [int(FIT_COLOURS["fitted"][i : i + 2], 16) for i in (1, 3, 5)]
    red = lambda frame: np.all(np.abs(frame - rgb) < 40, axis=-1)
    assert (red(last) & ~red(first)).sum() > 500  # the fitted line, drawn across the data panel
    ax = movie.figure.axes[0]
    curve = artist(movie, "fitted")
    grid, shown = map(np.asarray, curve.get_data())
    column, row = ax.transData.transform((grid[100], shown[100]))
    top = round(movie.size[1] - row)
    assert red(last)[top - 2 : top + 3, round(column)].any()  # where the last coefficients put it
    assert 'class="gdlab-player"' in movie.to_html()  # the notebook's player, as for trajectories


def test_plot_of_a_fit_is_its_last_step(cafe_gd):
    figure = gdlab.plot(cafe_gd, size=(700, 320))
    curve = next(line for ax in figure.axes for line in ax.lines if line.get_gid() == "fitted")
    grid, shown = curve.get_data()
    np.testing.assert_allclose(shown, cafe_gd.coef[0] + cafe_gd.coef[1] * np.asarray(grid))
    assert figure.get_size_inches().tolist() == [7.0, 3.2]


def test_logistic_draws_the_probability_curve():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    y = (rng.random(60) < 1 / (1 + np.exp(-(0.5 + 2 * x)))).astype(float)
    result = gdlab.fit({"x": x, "y": y}, y="y", x="x", family="logistic", method="gd", lr=0.5, steps=400)
    movie = gdlab.animate(result, frames=5)
    path = result.coefficient_path()
    curve, points = artist(movie, "fitted"), artist(movie, "residuals")
    for step in movie.steps:
        movie.scene.update(int(step))
        grid, p = map(np.asarray, curve.get_data())
        np.testing.assert_allclose(p, 1 / (1 + np.exp(-(path[step, 0] + path[step, 1] * grid))), rtol=1e-12)
        fitted = 1 / (1 + np.exp(-(path[step, 0] + path[step, 1] * x)))
        np.testing.assert_allclose(points.get_data()[1], y - fitted, atol=1e-12)
    assert movie.figure.axes[0].get_ylabel() == "P(y = 1)"
    assert movie.figure.axes[0].get_ylim() == pytest.approx((-0.08, 1.08))


def test_a_formula_draws_its_own_predictor_at_each_step():
    t = np.linspace(0, 5, 25)
    y = 3 * (1 - np.exp(-0.7 * t)) + 0.05 * np.sin(7 * t)
    result = gdlab.fit({"t": t, "y": y}, y="y", model="b1*(1-exp(-b2*t))", init={"b1": 1, "b2": 0.2})
    assert result.method == "lm" and result.steps > 3
    movie = gdlab.animate(result)
    assert len(movie) == result.steps + 1  # one frame per step when there are fewer than 100
    path = result.coefficient_path()
    curve = artist(movie, "fitted")
    for step in (0, 2, result.steps):
        movie.scene.update(step)
        grid, shown = map(np.asarray, curve.get_data())
        np.testing.assert_allclose(shown, path[step, 0] * (1 - np.exp(-path[step, 1] * grid)), rtol=1e-12)
    assert movie.figure.axes[0].get_xlabel() == "t"


def test_several_regressors_move_observed_against_fitted_at_each_step():
    """With several regressors the picture is the observed values against the fitted ones, about
    the line where they are equal, and the residuals against the fitted values, at each step; its
    still picture is the last step, as for one regressor."""
    rng = np.random.default_rng(1)
    data = {"a": rng.normal(size=20), "b": rng.normal(size=20)}
    data["y"] = 1 + data["a"] - data["b"] + 0.1 * rng.normal(size=20)
    result = gdlab.fit(data, y="y", x=["a", "b"], method="gd", lr=0.05, steps=200)
    movie = gdlab.animate(result, frames=5)
    path = result.coefficient_path()
    points, residuals = artist(movie, "fitted"), artist(movie, "residuals")
    for step in movie.steps:
        movie.scene.update(int(step))
        fitted = path[step, 0] + path[step, 1] * data["a"] + path[step, 2] * data["b"]
        np.testing.assert_allclose(points.get_data()[0], fitted, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(points.get_data()[1], data["y"])
        np.testing.assert_allclose(residuals.get_data()[0], fitted, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(residuals.get_data()[1], data["y"] - fitted, atol=1e-12)
    data_axis, residual_axis = movie.figure.axes
    assert (data_axis.get_xlabel(), data_axis.get_ylabel(), residual_axis.get_xlabel()) == (
        "fitted",
        "observed y",
        "fitted",
    )
    still = result.plot()
    drawn = next(line for line in still.axes[0].lines if line.get_gid() == "fitted")
    np.testing.assert_allclose(drawn.get_data()[0], result.predict(data), rtol=1e-12)


def test_a_closed_form_fit_names_the_methods_with_a_path():
    result = gdlab.fit("cafe", y="y", x="x")
    with pytest.raises(InputError, match="closed form and has no steps") as err:
        gdlab.animate(result)
    for method in ("'gd'", "'momentum'", "'adam'", "'newton'", "'lbfgs'", "'lm'"):
        assert method in str(err.value)


def test_paths_side_by_side_draw_each_coefficient_path_over_the_mean_squares(cafe_gd):
    from gdlab.render._fitpaths import mean_squares, plot_fit_paths

    x, y = cafe_xy()
    b0, b1 = np.array([0.0, 9.0]), np.array([2.0, 2.5, 3.0])
    expected = [[np.mean((y - a - b * x) ** 2) for b in b1] for a in b0]
    np.testing.assert_allclose(mean_squares(cafe_gd, b0, b1), expected, rtol=1e-12)
    newton = gdlab.fit("cafe", y="y", x="x", method="newton")
    figure = plot_fit_paths([cafe_gd, newton])
    titles = [ax.get_title() for ax in figure.axes[:2]]
    assert titles == [f"gd: {cafe_gd.steps} steps, converged", "newton: 1 step, converged"]
    for ax, result in zip(figure.axes[:2], (cafe_gd, newton), strict=True):
        drawn = np.column_stack(ax.lines[0].get_data())
        np.testing.assert_allclose(drawn, result.coefficient_path())
    with pytest.raises(InputError, match="two coefficients and one regressor"):
        plot_fit_paths([gdlab.fit("cafe", y="y", x="x")])


def test_plot_of_a_fit_takes_no_axes(cafe_gd):
    from matplotlib.figure import Figure

    with pytest.raises(InputError, match="two panels"):
        gdlab.plot(cafe_gd, ax=Figure().subplots())


def test_large_data_draws_a_fixed_sample_of_rows_and_says_so():
    from gdlab.render._fitscene import DRAW_POINTS

    rng = np.random.default_rng(2)
    x = rng.uniform(0, 10, 8000)
    y = 2 + 0.5 * x + rng.normal(size=8000)
    result = gdlab.fit({"x": x, "y": y}, y="y", x="x", method="gd", lr=0.1, steps=50)
    movie = gdlab.animate(result, frames=3)
    points = artist(movie, "residuals")
    movie.scene.update(result.steps)
    xs, rs = map(np.asarray, points.get_data())
    assert xs.size == DRAW_POINTS and np.all(np.isin(xs, x))
    rows = np.searchsorted(np.sort(x), xs)
    order = np.argsort(x)
    np.testing.assert_allclose(rs, y[order][rows] - result.predict({"x": xs}), atol=1e-9)
    assert movie.figure.axes[1].get_title().startswith("residuals, 5,000 of 8,000 rows")
    assert gdlab.animate(result, frames=3).frame(-1).shape == (440, 1000, 4)


def test_a_large_fit_draws_a_labelled_sample_of_its_rows():
    from gdlab.render._fitscene import DRAW_POINTS

    rng = np.random.default_rng(3)
    n = DRAW_POINTS + 5_000
    x = rng.normal(size=n)
    figure = gdlab.fit({"x": x, "y": 2 * x + 1 + rng.normal(size=n)}, y="y", x="x").plot()
    data_axis, residual_axis = figure.axes
    assert len(data_axis.collections[0].get_offsets()) == DRAW_POINTS
    residuals = next(line for line in residual_axis.lines if line.get_gid() == "residuals")
    assert len(residuals.get_xdata()) == DRAW_POINTS
    labels = [t.get_text() for t in data_axis.get_legend().get_texts()]
    assert labels[0] == f"data (a sample of {DRAW_POINTS:,} of {n:,} rows)"
    drawn = data_axis.collections[0].get_offsets()
    assert np.isin(drawn[:, 0], x).all()  # real rows, not made-up points


def _fits_of_each_kind():
    rng = np.random.default_rng(4)
    x = rng.normal(size=40)
    ones = (rng.random(40) < 1 / (1 + np.exp(-2 * x))).astype(float)
    t = np.linspace(0, 5, 25)
    decay = {"t": t, "y": 3 * (1 - np.exp(-0.7 * t)) + 0.05 * np.sin(7 * t)}
    shops = {
        "sales": [55.4, 58.2, 61.2, 60.1, 64.3, 66.0, 59.0],
        "temp": [20.1, 22.2, 22.7, 24.0, 25.5, 26.1, 21.0],
    }
    shops["shop"] = list("abcabcb")
    return {
        "closed form": gdlab.fit("cafe", y="y", x="x"),
        "gd": gdlab.fit("cafe", y="y", x="x", method="gd", lr=0.05),
        "lm": gdlab.fit(decay, y="y", model="b1*(1-exp(-b2*t))", init={"b1": 1, "b2": 0.2}),
        "adam beside lm": gdlab.fit(
            decay, y="y", model="b1*(1-exp(-b2*t))", init={"b1": 1, "b2": 0.2}, method="adam", steps=50
        ),
        "logistic": gdlab.fit({"x": x, "y": ones}, y="y", x="x", family="logistic"),
        "a formula's design": gdlab.fit(shops, "sales ~ temp + C(shop)"),
    }


@pytest.mark.parametrize("kind", list(_fits_of_each_kind()))
def test_a_fit_has_one_picture_however_it_is_asked_for(kind):
    """fit.plot() and gdlab.plot(fit) are one picture, pixel for pixel, for every kind of fit: its
    title, its curve at the fit's own predictions, the reference behind it only where a method
    ran beside one, and the colours of the one table (gdlab._colours.FIT_COLOURS)."""
    import matplotlib.colors as mcolors

    from gdlab._colours import FIT_COLOURS
    from gdlab.render._fitscene import fit_title

    result = _fits_of_each_kind()[kind]
    mine, theirs = result.plot(), gdlab.plot(result)
    assert gdlab.figure_bytes(mine, "png") == gdlab.figure_bytes(theirs, "png")
    assert mine.get_suptitle() == fit_title(result)
    data_axis, residual_axis = mine.axes
    fitted = next(line for line in data_axis.lines if line.get_gid() == "fitted")
    assert (
        mcolors.to_hex(fitted.get_color()) == FIT_COLOURS["fitted"].lower()
        or fitted.get_linestyle() == "None"
    )
    residuals = next(line for line in residual_axis.lines if line.get_gid() == "residuals")
    assert mcolors.to_hex(residuals.get_color()) == FIT_COLOURS["residual"].lower()
    if fitted.get_linestyle() != "None":  # one regressor: the curve over it, as predict gives it
        grid, shown = map(np.asarray, fitted.get_data())
        np.testing.assert_allclose(shown, result.predict({result.x[0]: grid}), rtol=1e-12)
    else:  # several: observed against fitted
        assert data_axis.get_xlabel() == "fitted"
    faint = [line for line in data_axis.lines if line.get_label() == result.reference]
    assert len(faint) == (result.max_difference is not None)
    if faint:
        assert mcolors.to_hex(faint[0].get_color()) == FIT_COLOURS["reference"].lower()


def test_the_line_above_the_data_stays_above_it_in_every_frame():
    """The step's two lines sit above the data panel in an animation's frames as in a still
    picture (a border through them hid the minus of 'intercept -1.487'), and are no wider than
    the panel: a fit of many coefficients names those that fit and counts the rest."""
    result = gdlab.fit("cafe", y="y", x="x", method="adam", steps=2)
    movie = gdlab.animate(result)
    info = artist(movie, "info")
    axis = movie.figure.axes[0]
    for step in (0, 2):
        movie.frame(step)  # drawn, as a frame of the file
        box, panel = info.get_window_extent(), axis.get_window_extent()
        assert box.y0 >= panel.y1 - 0.5 and box.x1 <= panel.x1, (box, panel)
    assert info.get_text().endswith(
        f"intercept {result.coef[0]:.4g}, x {result.coef[1]:.4g}\nstopped at the step limit (2)"
    )
    rng = np.random.default_rng(5)
    shops = {f"store_{c}": rng.normal(size=60) for c in "abcdefgh"}
    shops["y"] = rng.normal(size=60)
    wide = gdlab.fit(shops, y="y", x=[f"store_{c}" for c in "abcdefgh"], method="gd", steps=5)
    figure = gdlab.plot(wide, size=(800, 360))
    text = next(t for t in figure.axes[0].texts if t.get_gid() == "info")
    figure.canvas.draw()
    assert text.get_window_extent().x1 <= figure.axes[0].get_window_extent().x1
    shown = text.get_text().split("\n")[1]
    assert shown.startswith("intercept ") and shown.endswith(" more)")
    named = shown.count(",") + 1
    assert f"… ({len(wide.names) - named} more)" in shown


def test_a_fits_picture_takes_its_own_options_and_refuses_a_descents():
    result = gdlab.fit("cafe", y="y", x="x", method="gd", lr=0.05)
    figure = result.plot(title="카페 매출", size=(700, 300), ylim=(40, 90))
    assert figure.get_suptitle() == "카페 매출" and figure.get_size_inches().tolist() == [7.0, 3.0]
    assert figure.axes[0].get_ylim() == (40, 90)
    for option in (dict(xlim=(0, 40)), dict(labels=["mine"]), dict(history=True), dict(view="surface")):
        name = next(iter(option))
        with pytest.raises(InputError, match=f"{name} sets a descent's picture; a fit's picture takes title"):
            gdlab.plot(result, **option)
        with pytest.raises(InputError, match=f"{name} sets a descent's picture"):
            gdlab.animate(result, **option)
        with pytest.raises(InputError, match=f"{name} sets a descent's picture"):
            result.plot(**option)
    assert len(gdlab.animate(result, frames=5, spacing="log", fps=10, title="t", size=(600, 300))) == 5
    with pytest.raises(InputError, match="more than a picture may have"):  # refused before it is drawn
        result.plot(size=(100_000, 100_000))


def test_a_glm_whose_response_is_not_on_its_means_scale_says_so():
    rng = np.random.default_rng(6)
    years = rng.uniform(1, 5, 40)
    data = {"age": rng.normal(size=40), "years": years, "n": rng.poisson(years).astype(float)}
    result = gdlab.fit(data, y="n", x="age", family="poisson", offset="log(years)")
    with pytest.raises(
        InputError, match=r"a poisson fit with offset log\(years\) has no picture: its response"
    ):
        result.plot()


def test_a_diverged_fits_residuals_leave_the_others_readable():
    """Residuals of 1e283 at a diverged step do not set the residual axis: it reaches at most
    (1 + 2 REACH) spans of the data, where the start's residuals are readable."""
    from gdlab.render._fitscene import REACH
    from nist import load

    box = load("BoxBOD")
    result = gdlab.fit(
        box.columns, y="y", model=box.formula, init={"b1": 1.0, "b2": 1.0}, method="gauss-newton"
    )
    assert result.status.value == "diverged"
    movie = gdlab.animate(result)
    low, high = movie.figure.axes[1].get_ylim()
    span = float(np.ptp(box.columns["y"]))
    assert high <= 1.6 * (1 + 2 * REACH) * span and low < 0 < high
    residuals = artist(movie, "residuals")
    movie.scene.update(0)
    start = np.asarray(residuals.get_data()[1])
    assert np.all((start > low) & (start < high))  # the start's residuals (about 100 to 224) in view


def test_a_fits_html_player_names_the_fit(cafe_gd, tmp_path):
    """The HTML page of a fit's animation is titled by the fit (its picture's title), and so is
    the player's alternative text; a descent's is still a gradient descent."""
    movie = gdlab.animate(cafe_gd, frames=3)
    path = tmp_path / "fit.html"
    movie.save(path)
    page = path.read_text()
    assert "<title>y ~ x: gd on standardised regressors (animation)</title>" in page
    assert 'alt="y ~ x: gd on standardised regressors (animation), 3 frames"' in page
    descent = gdlab.animate(gdlab.descend("(b/2-1)^2", -10.0, lr=0.5, steps=5), frames=3)
    assert descent.description == "gradient descent animation"


def test_a_linear_fits_picture_is_drawn_without_importing_jax(tmp_path):
    """A closed-form fit and its picture need no JAX (half a second of a fresh process): the
    scene imports the loss's landscape only where a loss is drawn."""
    import subprocess
    import sys

    script = (
        "import sys, gdlab\n"
        "figure = gdlab.fit('cafe', y='y', x='x').plot()\n"
        f"gdlab.save_figure(figure, {str(tmp_path / 'fit.png')!r})\n"
        "print(sorted(m for m in ('jax', 'optax') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
    assert (tmp_path / "fit.png").read_bytes()[:4] == b"\x89PNG"


def test_a_weighted_fits_animation_points_to_its_picture():
    """No descent runs beside a weighted fit, so its animation's refusal points to its picture,
    not to method='gd' (which that fit refuses)."""
    rng = np.random.default_rng(9)
    x = rng.normal(size=30)
    data = {"x": x, "y": x + rng.normal(size=30), "w": rng.uniform(0.5, 2.0, 30)}
    result = gdlab.fit(data, y="y", x="x", weights="w")
    with pytest.raises(
        InputError, match=r"no descent runs beside a fit with weights: draw it as a picture"
    ) as err:
        gdlab.animate(result)
    assert "method='gd'" not in str(err.value)
    with pytest.raises(InputError, match="is solved in closed form"):
        gdlab.fit(data, y="y", x="x", weights="w", method="gd")


def test_a_fits_picture_in_korean(cafe_gd):
    """lang="ko" words the whole picture in Korean, with the lab page's words for how a run ended
    (수렴, 발산, 단계 한도, 정체), as a descent's picture words its legend."""
    figure = cafe_gd.plot(lang="ko")
    data_axis, residual_axis = figure.axes
    info = next(t for t in data_axis.texts if t.get_gid() == "info").get_text().split("\n")
    assert info[0].startswith(f"단계 {cafe_gd.steps} / {cafe_gd.steps}   평균 제곱 잔차 0.9495")
    assert info[2] == f"{cafe_gd.steps}단계에서 수렴"
    assert residual_axis.get_title() == "잔차" and residual_axis.get_ylabel() == "y − 적합값"
    assert [t.get_text() for t in data_axis.get_legend().get_texts()] == [
        "데이터",
        "최소제곱 해",
        "적합 (gd)",
    ]
    assert figure.get_suptitle() == "y ~ x: gd (표준화한 회귀변수에서)"
    closed = gdlab.fit("cafe", y="y", x="x").plot(lang="ko")
    said = next(t for t in closed.axes[0].texts if t.get_gid() == "info").get_text()
    assert said.startswith("최소제곱 해 (닫힌 형태로 풂)\nintercept 9.945")
    path = gdlab.descend("(b/2-1)^2", -10.0, lr=0.5, steps=200, tol=1e-8)
    legend = gdlab.plot(path, lang="ko").axes[0].get_legend()
    assert any(t.get_text().endswith(f"({path.steps}단계에서 수렴)") for t in legend.get_texts())


@pytest.mark.parametrize("formula", ["z ~ x + I(x**2)", "y ~ log(x)", "y ~ x"])
def test_a_formula_of_one_number_is_drawn_as_a_curve_over_it(formula):
    """A Wilkinson formula whose terms read one number (a parabola, a log) is drawn over that
    column, its curve the fit's predictions on a grid of it, as a teacher draws it; its
    animation too. A formula with a category is drawn observed against fitted."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0.5, 5, 40)
    data = {"x": x, "y": 1 + 2 * np.log(x) + 0.1 * rng.normal(size=40)}
    data["z"] = 1 - x + 0.5 * x**2 + 0.2 * rng.normal(size=40)
    data["g"] = np.where(x > 2, "big", "small")
    result = gdlab.fit(data, formula)
    data_axis, residual_axis = result.plot().axes
    assert data_axis.get_xlabel() == "x" and residual_axis.get_xlabel() == "x"
    curve = next(line for line in data_axis.lines if line.get_gid() == "fitted")
    grid, shown = map(np.asarray, curve.get_data())
    assert grid.min() == pytest.approx(x.min()) and grid.max() == pytest.approx(x.max())
    np.testing.assert_allclose(shown, result.predict({"x": grid}), rtol=1e-12)
    residuals = next(line for line in residual_axis.lines if line.get_gid() == "residuals")
    response = formula.split("~")[0].strip()
    np.testing.assert_allclose(residuals.get_data()[1], data[response] - result.predict(data), atol=1e-12)
    stepped = gdlab.fit(data, formula, method="gd", lr=0.05, steps=50)
    movie = gdlab.animate(stepped, frames=4)
    path = stepped.coefficient_path()
    moving = artist(movie, "fitted")
    movie.scene.update(0)  # the start: every coefficient 0
    np.testing.assert_allclose(np.asarray(moving.get_data()[1]), 0.0, atol=1e-12)
    movie.scene.update(int(movie.steps[-1]))
    np.testing.assert_allclose(path[-1], stepped.coef)
    grouped = gdlab.fit(data, f"{formula} + C(g)").plot()
    assert grouped.axes[0].get_xlabel() == "fitted"


def test_a_korean_animations_player_speaks_korean(cafe_gd, tmp_path):
    """The HTML player of a lang="ko" animation has Korean controls, frame counter and page
    language (they were English under a Korean picture); an English one is unchanged."""
    movie = gdlab.animate(cafe_gd, frames=3, lang="ko")
    path = tmp_path / "fit.html"
    movie.save(path)
    page = path.read_text()
    assert '<html lang="ko">' in page and "(애니메이션)</title>" in page
    assert 'alt="y ~ x: gd (표준화한 회귀변수에서) (애니메이션), 장면 3개"' in page
    assert 'title="첫 장면"' in page and "<label>속도 <select" in page
    assert '"step": "단계", "frame": "장면", "play": "재생", "pause": "정지"' in page
    english = gdlab.animate(cafe_gd, frames=3).to_html()
    assert 'title="first frame"' in english and '"step": "step"' in english

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
        f"step {step:,} / {cafe_gd.steps:,}   loss {loss:.4g}   intercept {b[0]:.4g}, x {b[1]:.4g}"
    )
    away = next(a for a in movie.scene.texts if a is not info)
    movie.scene.update(0)  # the line y = 0 is far below the cafe's sales
    assert away.get_text() == "gd's curve is below the chart (at 0)"
    movie.scene.update(cafe_gd.steps)
    assert away.get_text() == ""
    assert info.get_text().startswith(f"step {cafe_gd.steps} / {cafe_gd.steps}   loss 0.9495")
    assert info.get_text().endswith("intercept 9.945, x 2.216   (converged)")


def test_gif_has_one_frame_per_step_shown_and_the_curve_moves(movie):
    with Image.open(io.BytesIO(movie.to_bytes("gif"))) as image:
        assert image.n_frames == 12 and image.size == (800, 360)
    first, last = movie.frame(0)[..., :3].astype(int), movie.frame(-1)[..., :3].astype(int)
    red = lambda frame: np.all(np.abs(frame - [214, 39, 40]) < 40, axis=-1)
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


def test_several_regressors_say_what_to_draw_instead():
    rng = np.random.default_rng(1)
    data = {"a": rng.normal(size=20), "b": rng.normal(size=20)}
    data["y"] = 1 + data["a"] - data["b"] + 0.1 * rng.normal(size=20)
    result = gdlab.fit(data, y="y", x=["a", "b"], method="newton")
    with pytest.raises(
        InputError, match=r"one regressor; this fit has 2 \(a, b\): draw it with fit\.plot\(\)"
    ):
        gdlab.animate(result)


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
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 10, 5000)
    y = 2 + 0.5 * x + rng.normal(size=5000)
    result = gdlab.fit({"x": x, "y": y}, y="y", x="x", method="gd", lr=0.1, steps=50)
    movie = gdlab.animate(result, frames=3)
    points = artist(movie, "residuals")
    movie.scene.update(result.steps)
    xs, rs = map(np.asarray, points.get_data())
    assert xs.size == 2000 and np.all(np.isin(xs, x))
    rows = np.searchsorted(np.sort(x), xs)
    order = np.argsort(x)
    np.testing.assert_allclose(rs, y[order][rows] - result.predict({"x": xs}), atol=1e-9)
    assert movie.figure.axes[1].get_title().startswith("residuals, 2,000 of 5,000 rows")
    assert gdlab.animate(result, frames=3).frame(-1).shape == (440, 1000, 4)


def test_a_large_fit_draws_a_labelled_sample_of_its_rows():
    from gdlab.render._fitplot import DRAW_POINTS

    rng = np.random.default_rng(3)
    n = DRAW_POINTS + 5_000
    x = rng.normal(size=n)
    figure = gdlab.fit({"x": x, "y": 2 * x + 1 + rng.normal(size=n)}, y="y", x="x").plot()
    data_axis, residual_axis = figure.axes
    assert len(data_axis.collections[0].get_offsets()) == DRAW_POINTS
    assert len(residual_axis.collections[0].get_offsets()) == DRAW_POINTS
    labels = [t.get_text() for t in data_axis.get_legend().get_texts()]
    assert labels[0] == f"data (a sample of {DRAW_POINTS:,} of {n:,} rows)"
    drawn = data_axis.collections[0].get_offsets()
    assert np.isin(drawn[:, 0], x).all()  # real rows, not made-up points

import warnings

import jax.numpy as jnp
import numpy as np
import pytest

import gdlab


def test_two_axes_match_brute_force():
    b0, b1 = np.linspace(0, 20, 41), np.linspace(0, 4, 81)
    cafe = gdlab.datasets.cafe()
    sse = lambda p: sum((cafe.y - p[0] - p[1] * cafe.x) ** 2)
    result = gdlab.grid_search(sse, (b0, b1))
    brute = np.array([[np.sum((cafe.y - a - b * cafe.x) ** 2) for b in b1] for a in b0])
    np.testing.assert_allclose(result.losses, brute, rtol=1e-12)
    i, j = np.unravel_index(np.argmin(brute), brute.shape)
    assert result.index == (i, j) and result.best == (b0[i], b1[j])
    assert result.evaluations == 41 * 81


def test_dict_grid_passes_a_dict_like_descend():
    result = gdlab.grid_search(
        lambda p: (p["w"] - 1) ** 2 + (p["c"] + 1) ** 2,
        {"w": np.linspace(-3, 3, 7), "c": np.linspace(-3, 3, 7)},
    )
    assert result.best == {"w": 1.0, "c": -1.0} and result.names == ("w", "c")


def test_edge_warning_and_no_warning_inside():
    with pytest.warns(gdlab.GridEdgeWarning, match="edge.*widen"):
        gdlab.grid_search(lambda b: (b - 50) ** 2, np.linspace(-10, 10, 21))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdlab.grid_search(lambda b: (b - 1) ** 2, np.linspace(-10, 10, 21))


def test_non_finite_losses_never_win():
    import jax.numpy as jnp

    with pytest.warns(RuntimeWarning, match="not finite at 2 of 6 grid points"):
        result = gdlab.grid_search(lambda b: jnp.where(b < 0, jnp.nan, b**2 - b), np.linspace(-1, 1.5, 6))
    assert result.best == 0.5
    assert result.warnings == ("the loss is not finite at 2 of 6 grid points; they were skipped",)
    assert result.to_dict()["warnings"] == list(result.warnings)


def test_grid_size_is_checked_before_anything_is_allocated():
    axis = np.linspace(-1, 1, 10_000)
    with pytest.raises(gdlab.InputError, match="100,000,000 grid points: at most 10,000,000"):
        gdlab.grid_search(lambda b: b[0] ** 2 + b[1] ** 2, (axis, axis))


def test_bad_grids():
    with pytest.raises(ValueError, match="no points"):
        gdlab.grid_search(lambda b: b**2, [])
    with pytest.raises(ValueError, match="1-D"):
        gdlab.grid_search(lambda b: b**2, np.ones((2, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        gdlab.grid_search(lambda b: b**2, [0.0, np.inf])
    with pytest.raises(ValueError, match="not finite at any"):
        gdlab.grid_search(lambda b: b * np.nan, [0.0, 1.0])


def test_grid_point_has_the_shape_descend_uses():
    loss = lambda p: (p[0] - 1) ** 2 + (p[1] + 2) ** 2
    axes = (np.linspace(-3, 3, 7), np.linspace(-3, 3, 7))
    assert gdlab.grid_search(loss, axes).best == (1.0, -2.0)
    path = gdlab.descend(loss, (0.0, 0.0), lr=0.1, steps=200)
    np.testing.assert_allclose([float(v) for v in path.final], [1.0, -2.0], atol=1e-9)


def test_list_of_numbers_is_one_axis():
    result = gdlab.grid_search(lambda b: (b - 2) ** 2, [1.0, 2.0, 3.0])
    assert result.best == 2.0 and result.index == 1


def test_loss_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"IndexError for parameters of shape \(\)"):
        gdlab.grid_search(lambda p: p[0] ** 2 + p[1] ** 2, np.linspace(-1, 1, 5))


def test_minus_infinity_is_counted_and_never_wins():
    """-inf would be the smallest value: it is skipped like NaN, and the count says how many."""
    with pytest.warns(RuntimeWarning, match="not finite at 3 of 7 grid points; they were skipped"):
        result = gdlab.grid_search(lambda b: jnp.where(b < 0, -jnp.inf, (b - 1) ** 2), np.linspace(-3, 3, 7))
    assert result.best == 1.0 and result.loss == 0.0


@pytest.mark.parametrize(
    ("loss", "grid", "message"),
    [
        # each of these raised a raw ValueError, or a message about calling the loss by name
        (
            lambda b: jnp.ones(3) @ b,
            [1.0, 2.0],
            "the loss raised ValueError at one number per grid axis: matmul",
        ),
        (lambda b: b**2, {"a": [1.0, 2.0], "b": "x"}, "grid b must be numbers; got 'x'"),
        ("X@b", [1.0], r"the loss has 2 parameter\(s\) \(X, b\) but the grid has 1 axis"),
        (
            "(a-1)^2+(b-2)^2",
            {"a": [1.0], "c": [1.0]},
            "the grid's axes are a, c; give one for each parameter: a, b",
        ),
    ],
)
def test_a_grid_that_does_not_fit_the_loss_is_an_input_error(loss, grid, message):
    with pytest.raises(gdlab.InputError, match=message):
        gdlab.grid_search(loss, grid)


def test_a_typed_loss_takes_a_grid_of_axes_in_the_order_of_its_parameters():
    found = gdlab.grid_search("(a-1)^2+(b-2)^2", ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0]))
    assert found.best == (1.0, 2.0) and found.loss == 0.0
    by_name = gdlab.grid_search("(a-1)^2+(b-2)^2", {"b": [1.0, 2.0, 3.0], "a": [0.0, 1.0, 2.0]})
    assert by_name.best == {"b": 2.0, "a": 1.0}


def test_grids_of_many_sizes_compile_a_few_programs_per_loss_and_give_each_its_own_values():
    """The lab's grid-size slider sends a new size each time: evaluated op by op, each new size
    compiled every operation again (0.6 s and 4.4 MB each, 200 sizes: 871 MB). Sizes share a
    power-of-two bucket, so 10 to 300 points compile four programs."""
    from gdlab import _grid

    loss = gdlab.parse("(b/2-1)^2 + 0.1*b")
    before = _grid._values._cache_size()
    for n in range(10, 301, 7):
        axis = np.linspace(-10, 10, n)
        result = gdlab.grid_search(loss, axis)
        np.testing.assert_allclose(result.losses, (axis / 2 - 1) ** 2 + 0.1 * axis, rtol=1e-15)
        assert result.evaluations == n
    assert _grid._values._cache_size() - before == 4  # buckets of 64, 128, 256 and 512 points

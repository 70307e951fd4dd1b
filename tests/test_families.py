"""GLM families (binomial with trials, Poisson with an offset, Gaussian, weights) against
statsmodels' GLM and WLS, in memory and streamed from Parquet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gdlab
from gdlab import InputError
from gdlab.fitting._glm_families import GLM_FAMILIES

sm = pytest.importorskip("statsmodels.api")

STAR98_X = ["LOWINC", "PERASIAN", "PERBLACK", "PERHISP", "PCTCHRT", "PCTYRRND", "PERMINTE", "AVYRSEXP"]


def _close(mine: object, theirs: object, rtol: float = 1e-8) -> None:
    a, b = np.asarray(mine, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(1.0, float(np.max(np.abs(b)))))


def _agree(found: gdlab.Fit, ref: object) -> None:
    """A GLM fit and statsmodels' (run to a tight tolerance): everything a statistician reports."""
    s = found.stats
    assert s is not None
    _close(found.coef, ref.params)
    _close(s.se, ref.bse)
    _close(s.pvalue, ref.pvalues)
    _close(found.conf_int().to_numpy(), np.asarray(ref.conf_int()))
    for mine, theirs in [
        (s.deviance, ref.deviance),
        (s.null_deviance, ref.null_deviance),
        (s.log_likelihood, ref.llf),
        (s.aic, ref.aic),
        (s.bic, ref.bic),
        (s.df_resid, ref.df_resid),
    ]:
        _close(mine, theirs)


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    """Seeded Poisson counts with an exposure, and integer frequency weights (some 0)."""
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.uniform(-1, 1, size=n),
            "exposure": rng.uniform(0.5, 4.0, size=n),
            "w": rng.integers(0, 4, size=n).astype(float),
        }
    )
    df["y"] = rng.poisson(np.exp(0.2 + 0.5 * df.a - 0.7 * df.b) * df.exposure).astype(float)
    df["v"] = rng.uniform(0.2, 3.0, size=n)
    df["z"] = 1 + 2 * df.a - df.b + rng.normal(size=n) / np.sqrt(df.v)
    return df


@pytest.fixture(scope="module")
def star98() -> pd.DataFrame:
    data = sm.datasets.star98.load_pandas().data
    data["TRIALS"] = data.NABOVE + data.NBELOW
    return data


def _design(df: pd.DataFrame, x: list[str]) -> object:
    return sm.add_constant(df[x])


def test_poisson_matches_statsmodels(counts: pd.DataFrame) -> None:
    found = gdlab.fit(counts, y="y", x="a,b", family="poisson")
    ref = sm.GLM(counts.y, _design(counts, ["a", "b"]), family=sm.families.Poisson()).fit(tol=1e-14)
    _agree(found, ref)
    assert found.family == "poisson"


@pytest.mark.parametrize("offset", ["log(exposure)", "log_exposure"])
def test_poisson_offset_matches_statsmodels(counts: pd.DataFrame, offset: str) -> None:
    data = counts.assign(log_exposure=np.log(counts.exposure))
    found = gdlab.fit(data, y="y", x="a,b", family="poisson", offset=offset)
    ref = sm.GLM(
        counts.y, _design(counts, ["a", "b"]), family=sm.families.Poisson(), offset=np.log(counts.exposure)
    ).fit(tol=1e-14)
    _agree(found, ref)
    # the offset changes the fit: without it, the coefficients are others
    plain = gdlab.fit(counts, y="y", x="a,b", family="poisson")
    assert abs(plain.coef[0] - found.coef[0]) > 0.1


def test_binomial_with_trials_matches_statsmodels_on_star98(star98: pd.DataFrame) -> None:
    found = gdlab.fit(star98, y="NABOVE", trials="TRIALS", x=STAR98_X, family="binomial")
    ref = sm.GLM(star98[["NABOVE", "NBELOW"]], _design(star98, STAR98_X), family=sm.families.Binomial()).fit(
        tol=1e-14
    )
    _agree(found, ref)
    assert found.family == "binomial"
    assert found.predict(star98.head(3)).shape == (3,)
    np.testing.assert_allclose(found.predict(star98), ref.fittedvalues, rtol=1e-9)


def test_gaussian_glm_is_ols(counts: pd.DataFrame) -> None:
    found = gdlab.fit(counts, y="z", x="a,b", family="gaussian")
    ols = sm.OLS(counts.z, _design(counts, ["a", "b"])).fit()
    glm = sm.GLM(counts.z, _design(counts, ["a", "b"])).fit()
    _close(found.coef, glm.params)
    _close(found.stats.se, glm.bse)
    _close(found.stats.deviance, glm.deviance)
    _close(found.stats.log_likelihood, ols.llf)
    _close(found.stats.aic, ols.aic)
    _close(found.stats.bic, ols.bic)


def test_wls_matches_statsmodels(counts: pd.DataFrame) -> None:
    found = gdlab.fit(counts, y="z", x="a,b", weights="v")
    ref = sm.WLS(counts.z, _design(counts, ["a", "b"]), weights=counts.v).fit()
    s = found.stats
    _close(found.coef, ref.params)
    _close(s.se, ref.bse)
    _close(s.pvalue, ref.pvalues)
    _close(found.conf_int().to_numpy(), np.asarray(ref.conf_int()))
    _close(s.rss, ref.ssr)
    _close(s.r2, ref.rsquared)
    _close(s.adj_r2, ref.rsquared_adj)
    _close(s.model_test.statistic, ref.fvalue)
    _close(s.log_likelihood, ref.llf)
    _close(s.aic, ref.aic)
    _close(s.bic, ref.bic)
    _close(s.sigma, np.sqrt(ref.scale))
    unweighted = gdlab.fit(counts, y="z", x="a,b")
    assert np.max(np.abs(unweighted.coef - found.coef)) > 1e-3  # the weights are used


@pytest.mark.parametrize("family", ["poisson", "binomial"])
def test_frequency_weights_match_statsmodels(counts: pd.DataFrame, family: str) -> None:
    data = counts.assign(hit=(counts.z > 1).astype(float))
    y = "y" if family == "poisson" else "hit"
    found = gdlab.fit(data, y=y, x="a,b", family=family, weights="w")
    fam = sm.families.Poisson() if family == "poisson" else sm.families.Binomial()
    ref = sm.GLM(data[y], _design(data, ["a", "b"]), family=fam, freq_weights=data.w).fit(tol=1e-14)
    _agree(found, ref)
    assert found.stats.nobs == data.w.sum()
    # a weight of 3 is three rows
    rows = data.loc[data.index.repeat(data.w.astype(int))]
    expanded = gdlab.fit(rows, y=y, x="a,b", family=family)
    _close(found.coef, expanded.coef, 1e-10)
    _close(found.stats.se, expanded.stats.se, 1e-10)


def test_logistic_names_fit_alike(counts: pd.DataFrame) -> None:
    data = counts.assign(hit=(counts.z > 1).astype(float))
    fits = [gdlab.fit(data, y="hit", x="a,b", family=name) for name in ("logistic", "logit", "Binomial")]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.coef, fits[0].coef)
    # the GLM loop (through an all-ones weight) gives logistic's numbers too
    glm = gdlab.fit(data.assign(one=1.0), y="hit", x="a,b", family="binomial", weights="one")
    _close(glm.coef, fits[0].coef, 1e-10)
    _close(glm.stats.se, fits[0].stats.se, 1e-10)
    _close(glm.stats.log_likelihood, fits[0].stats.log_likelihood, 1e-10)


@pytest.mark.parametrize(
    "kw",
    [
        dict(y="y", x="a,b", family="poisson", offset="log(exposure)"),
        dict(y="y", x="a,b", family="poisson", weights="w"),
        dict(y="z", x="a,b", weights="v"),
    ],
)
def test_parquet_streamed_equals_memory(counts: pd.DataFrame, tmp_path: object, kw: dict) -> None:
    path = f"{tmp_path}/counts.parquet"
    counts.to_parquet(path)
    memory = gdlab.fit(counts, **kw)
    source = gdlab.open_source(path, stream=True, batch_rows=64)  # several blocks, the last padded
    streamed = gdlab.fit(source, **kw)
    _close(streamed.coef, memory.coef, 1e-10)
    _close(streamed.stats.se, memory.stats.se, 1e-10)
    _close(streamed.stats.log_likelihood, memory.stats.log_likelihood, 1e-10)
    _close(streamed.stats.deviance, memory.stats.deviance, 1e-10)
    assert streamed.n == memory.n


def test_star98_parquet_equals_memory(star98: pd.DataFrame, tmp_path: object) -> None:
    path = f"{tmp_path}/star98.parquet"
    star98.to_parquet(path)
    kw = dict(y="NABOVE", trials="TRIALS", x=STAR98_X, family="binomial")
    memory = gdlab.fit(star98, **kw)
    streamed = gdlab.fit(path, stream=True, **kw)
    _close(streamed.coef, memory.coef, 1e-10)
    _close(streamed.stats.se, memory.stats.se, 1e-10)
    _close(streamed.stats.log_likelihood, memory.stats.log_likelihood, 1e-10)


def test_summary_and_dict(counts: pd.DataFrame) -> None:
    found = gdlab.fit(counts, y="y", x="a,b", family="poisson", offset="log(exposure)")
    text = found.summary()
    assert "poisson" in text and "Null deviance" in text and "Residual deviance" in text
    assert "AIC" in text and "P>|z|" in text
    d = found.to_dict()
    assert d["family"] == "poisson"
    frame = found.to_pandas()
    assert list(frame.index) == ["intercept", "a", "b"]


@pytest.mark.parametrize("cov", ["HC0", "HC1", "HC2", "HC3", "cluster"])
def test_wls_robust_covariances_match_statsmodels_in_memory_and_streamed(
    counts: pd.DataFrame, tmp_path: object, cov: str
) -> None:
    """Weighted least squares takes every robust covariance, as statsmodels' WLS gives it (with
    use_t=True: t tests on n - p, or G - 1 for clusters); a row of weight 0 counts for nothing in
    the sandwich (its leverage is 0), and the rows streamed from Parquet give the same numbers."""
    data = counts.assign(g=np.arange(len(counts)) % 7, v=np.where(counts.index == 4, 0.0, counts.v))
    groups = "g" if cov == "cluster" else None
    kw = {"cov_kwds": {"groups": data.g}} if groups else {}
    ref = sm.WLS(data.z, _design(data, ["a", "b"]), weights=data.v).fit(cov_type=cov, use_t=True, **kw)
    found = gdlab.fit(data, y="z", x="a,b", weights="v", cov=cov, groups=groups)
    _close(found.coef, ref.params)
    _close(found.stats.se, ref.bse)
    _close(found.stats.pvalue, ref.pvalues)
    _close(found.conf_int().to_numpy(), np.asarray(ref.conf_int()))
    assert found.stats.statistic_name == "t"
    path = f"{tmp_path}/weighted.parquet"
    data.to_parquet(path)
    streamed = gdlab.fit(path, y="z", x="a,b", weights="v", cov=cov, groups=groups, stream=True)
    _close(streamed.stats.se, ref.bse)


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        (dict(y="y", x="a", family="poison"), "did you mean 'poisson'"),
        (dict(y="y", x="a", family="poisson", weights="neg"), "weights must be 0 or more"),
        (dict(y="neg", x="a", family="poisson"), "counts of 0 or more"),
        (dict(y="y", x="a", family="binomial", trials="small"), "successes between 0 and the trials"),
        (dict(y="y", x="a", family="binomial", trials="zero"), "trials must be more than 0"),
        (dict(y="y", x="a", family="poisson", trials="small"), "give family='binomial'"),
        (dict(y="y", x="a", family="poisson", offset="log(zero)"), "must be a finite number"),
        (dict(y="y", x="a", family="poisson", cov="HC3"), "leave cov unset"),
        (dict(y="y", x="a", family="poisson", weights="w", cov="HC0"), "without weights"),
        (dict(y="y", x="a", family="poisson", cov="HC1"), "statsmodels' GLM gives 'HC1' the same numbers"),
        (dict(y="y", x="a", family="poisson", method="gd"), "leave method unset"),
    ],
)
def test_bad_input_names_the_fix(counts: pd.DataFrame, kw: dict, words: str) -> None:
    data = counts.assign(
        neg=np.where(counts.index == 5, -1.0, counts.y),
        small=0.5,  # fewer trials than the successes of most rows
        zero=np.where(counts.index == 3, 0.0, 1.0),
    )
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        gdlab.fit(data, **kw)


def test_nan_weight_is_refused(counts: pd.DataFrame) -> None:
    data = counts.assign(w=np.where(counts.index == 2, np.nan, counts.w))
    with pytest.raises(InputError, match="'w'"):
        gdlab.fit(data, y="y", x="a", family="poisson", weights="w")


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore:.*unclosed.*:DeprecationWarning")
@pytest.mark.filterwarnings("ignore::UserWarning:distributed")
def test_dask_cluster_equals_memory(counts: pd.DataFrame, star98: pd.DataFrame) -> None:
    dd = pytest.importorskip("dask.dataframe")
    pytest.importorskip("dask.distributed")
    from helpers import local_cluster

    cases = [
        (counts, dict(y="y", x="a,b", family="poisson", offset="log(exposure)", weights="w")),
        (star98, dict(y="NABOVE", trials="TRIALS", x=STAR98_X, family="binomial")),
    ]
    with local_cluster(workers=2) as (_, client):
        for frame, kw in cases:
            memory = gdlab.fit(frame, **kw)
            on_cluster = gdlab.fit(dd.from_pandas(frame, npartitions=3), client=client, **kw)
            _close(on_cluster.coef, memory.coef, 1e-10)
            _close(on_cluster.stats.se, memory.stats.se, 1e-10)
            _close(on_cluster.stats.log_likelihood, memory.stats.log_likelihood, 1e-10)


def test_command_line_poisson_with_offset_and_weights(counts: pd.DataFrame, tmp_path: object) -> None:
    import json

    from typer.testing import CliRunner

    from gdlab.cli import app

    path = f"{tmp_path}/counts.csv"
    counts.to_csv(path, index=False)
    args = ["fit", path, "--y", "y", "--x", "a,b", "--family", "poisson"]
    args += ["--offset", "log(exposure)", "--weights", "w", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    expected = gdlab.fit(counts, y="y", x="a,b", family="poisson", offset="log(exposure)", weights="w")
    assert out["family"] == "poisson" and out["method"] == "newton"
    assert out["coefficients"] == pytest.approx(expected.coefficients, rel=1e-12)
    refused = CliRunner().invoke(
        app, ["fit", path, "--y", "y", "--x", "a", "--family", "poisson", "--trials", "w"]
    )
    assert (
        refused.exit_code == 2 and "--trials is a binomial model's: give --family binomial" in refused.output
    )


def test_gaussian_offset_matches_statsmodels_glm(counts: pd.DataFrame) -> None:
    found = gdlab.fit(counts, y="z", x="a", family="gaussian", offset="b")
    ref = sm.GLM(counts.z, _design(counts, ["a"]), offset=counts.b).fit()
    _close(found.coef, ref.params)
    _close(found.stats.se, ref.bse)
    _close(found.stats.deviance, ref.deviance)
    _close(found.stats.null_deviance, ref.null_deviance)
    _close(found.stats.log_likelihood, ref.llf)


def test_wald_test_on_a_glm_matches_statsmodels(counts: pd.DataFrame) -> None:
    found = gdlab.fit(counts, y="y", x="a,b", family="poisson", offset="log(exposure)")
    ref = sm.GLM(
        counts.y, _design(counts, ["a", "b"]), family=sm.families.Poisson(), offset=np.log(counts.exposure)
    ).fit(tol=1e-14)
    mine, theirs = found.test("a = 0, b = 0"), ref.wald_test("a = 0, b = 0", scalar=True)
    _close(mine.statistic, theirs.statistic)
    _close(mine.pvalue, theirs.pvalue)


def test_separated_successes_warn_instead_of_failing() -> None:
    x = np.linspace(-1, 1, 20)
    data = {"x": x, "k": np.where(x > 0, 5.0, 0.0), "m": np.full(20, 5.0)}
    found = gdlab.fit(data, y="k", trials="m", x="x", family="binomial")
    assert found.status is not None and found.status.value != "converged"
    assert any("did not converge" in w for w in found.warnings)


@pytest.mark.parametrize("cov", ["HC0", "cluster"])
def test_robust_covariances_match_statsmodels(counts: pd.DataFrame, star98: pd.DataFrame, cov: str) -> None:
    data = counts.assign(g=(np.arange(len(counts)) % 23).astype(float))
    groups = "g" if cov == "cluster" else None
    kwds = {"cov_kwds": {"groups": data.g.astype(int)}} if groups else {}
    found = gdlab.fit(data, y="y", x="a,b", family="poisson", offset="log(exposure)", cov=cov, groups=groups)
    ref = sm.GLM(
        data.y, _design(data, ["a", "b"]), family=sm.families.Poisson(), offset=np.log(data.exposure)
    ).fit(tol=1e-14, cov_type=cov, **kwds)
    _close(found.stats.se, ref.bse)
    _close(found.stats.pvalue, ref.pvalues)
    _close(found.conf_int().to_numpy(), np.asarray(ref.conf_int()))
    assert found.stats.cov_type == cov
    if cov == "HC0":
        binomial = gdlab.fit(star98, y="NABOVE", trials="TRIALS", x=STAR98_X, family="binomial", cov="HC0")
        ref = sm.GLM(
            star98[["NABOVE", "NBELOW"]], _design(star98, STAR98_X), family=sm.families.Binomial()
        ).fit(tol=1e-14, cov_type="HC0")
        _close(binomial.stats.se, ref.bse)


def test_robust_covariance_streamed_equals_memory(counts: pd.DataFrame, tmp_path: object) -> None:
    path = f"{tmp_path}/robust.parquet"
    data = counts.assign(g=(np.arange(len(counts)) % 23).astype(float))
    data.to_parquet(path)
    kw = dict(y="y", x="a,b", family="poisson", offset="log(exposure)", cov="cluster", groups="g")
    memory = gdlab.fit(data, **kw)
    streamed = gdlab.fit(gdlab.open_source(path, stream=True, batch_rows=64), **kw)
    _close(streamed.stats.se, memory.stats.se, 1e-10)


def test_wls_without_intercept_matches_statsmodels(counts: pd.DataFrame) -> None:
    found = gdlab.fit(counts, y="z", x="a,b", weights="v", intercept=False)
    ref = sm.WLS(counts.z, counts[["a", "b"]], weights=counts.v).fit()
    _close(found.coef, ref.params)
    _close(found.stats.se, ref.bse)
    _close(found.stats.r2, ref.rsquared)  # about zero, as statsmodels' without a constant
    _close(found.stats.model_test.statistic, ref.fvalue)
    _close(found.stats.log_likelihood, ref.llf)


@pytest.mark.parametrize("case", ["poisson", "poisson offset", "binomial trials", "logistic HC0", "formula"])
def test_a_glm_s_interval_for_the_mean_matches_statsmodels(
    counts: pd.DataFrame, star98: pd.DataFrame, case: str
):
    """predict(new, interval="confidence") of a GLM: the linear predictor's interval through the
    inverse link, and the mean's standard error by the delta method, as statsmodels'
    get_prediction().summary_frame() gives them."""
    alpha = 0.1
    if case == "binomial trials":
        found = gdlab.fit(star98, y="NABOVE", trials="TRIALS", x=STAR98_X, family="binomial")
        ref = sm.GLM(star98[["NABOVE", "NBELOW"]], _design(star98, STAR98_X), family=sm.families.Binomial())
        new, exog = star98.head(5), _design(star98, STAR98_X).head(5)
        frame = ref.fit(tol=1e-14).get_prediction(exog).summary_frame(alpha=alpha)
    elif case == "logistic HC0":
        data = counts.assign(hit=(counts.y > counts.y.median()).astype(float))
        found = gdlab.fit(data, y="hit", x="a,b", family="logistic", cov="HC0")
        ref = sm.Logit(data.hit, _design(data, ["a", "b"])).fit(disp=0, tol=1e-14, cov_type="HC0")
        new, exog = data.head(5), _design(data, ["a", "b"]).head(5)
        frame = (
            ref.get_prediction(exog)
            .summary_frame(alpha=alpha)
            .rename(
                columns={
                    "predicted": "mean",
                    "se": "mean_se",
                    "ci_lower": "mean_ci_lower",
                    "ci_upper": "mean_ci_upper",
                }
            )
        )
    else:
        offset = {"offset": "log(exposure)"} if case == "poisson offset" else {}
        if case == "formula":
            data = counts.assign(g=np.where(counts.a > 0, "up", np.where(counts.b > 0, "left", "down")))
            found = gdlab.fit(data, "y ~ a + C(g) + a:b", family="poisson")
            ref = sm.GLM.from_formula("y ~ a + C(g) + a:b", data, family=sm.families.Poisson()).fit(tol=1e-14)
            new = data.head(5)
            frame = ref.get_prediction(new).summary_frame(alpha=alpha)
        else:
            found = gdlab.fit(counts, y="y", x="a,b", family="poisson", **offset)
            model = sm.GLM(
                counts.y,
                _design(counts, ["a", "b"]),
                family=sm.families.Poisson(),
                offset=np.log(counts.exposure) if offset else None,
            )
            new, exog = counts.head(5), _design(counts, ["a", "b"]).head(5)
            frame = model.fit(tol=1e-14).get_prediction(exog, offset=np.zeros(5)).summary_frame(alpha=alpha)
    mine = found.predict(new, interval="confidence", alpha=alpha)
    _close(mine["mean"], frame["mean"])
    _close(mine["se"], frame["mean_se"])
    _close(mine["lower"], frame["mean_ci_lower"])
    _close(mine["upper"], frame["mean_ci_upper"])
    assert ((mine["lower"] < mine["mean"]) & (mine["mean"] < mine["upper"])).all()
    with pytest.raises(
        gdlab.InputError, match=r"a prediction interval \(for a new observation\) is given for linear fits"
    ):
        found.predict(new, interval="prediction")


@pytest.mark.parametrize("name", sorted(GLM_FAMILIES))
def test_a_canonical_family_s_derivative_is_its_variance(name: str) -> None:
    # a Newton step reads V(mu) for dmu/deta where the family says its link is canonical
    family = GLM_FAMILIES[name]
    eta = np.concatenate([np.linspace(-40, 40, 801), [-750.0, -1e-12, 0.0, 1e-12, 700.0]])
    with np.errstate(over="ignore"):
        same = np.array_equal(family.derivative(eta), family.variance(family.inverse(eta)))
    assert same == family.canonical


def test_a_method_the_family_does_not_take_is_refused_naming_only_what_was_given():
    """A Poisson fit with method='gd' is refused as solved by Newton's method, without claiming
    trials, weights or an offset it was not given; a weighted Gaussian fit, as solved in closed form."""
    x = np.linspace(0.0, 5.0, 30)
    data = {"x": x, "y": np.round(np.exp(0.1 + 0.2 * x)), "w": np.ones(30)}
    with pytest.raises(InputError) as plain:
        gdlab.fit(data, y="y", x="x", family="poisson", method="gd")
    assert str(plain.value).startswith(
        "a poisson fit is solved by Newton's method (IRLS): leave method unset"
    )
    assert "trials" not in str(plain.value)
    with pytest.raises(InputError, match=r"^a poisson fit with offset is solved by Newton's method"):
        gdlab.fit(data, y="y", x="x", family="poisson", offset="x", method="adam")
    with pytest.raises(InputError, match=r"^a gaussian fit with weights is solved in closed form"):
        gdlab.fit(data, y="y", x="x", weights="w", method="gd")


def test_a_glms_title_names_its_offset_weights_and_trials():
    """The summary's first line names the settings that are part of the model, as R's call does:
    a Poisson fit with an offset is another model than one without."""
    rng = np.random.default_rng(3)
    age, years = rng.uniform(20, 70, 60), rng.uniform(0.5, 2, 60)
    data = {
        "age": age,
        "years": years,
        "claims": rng.poisson(np.exp(-2 + 0.02 * age) * years),
        "w": np.ones(60),
    }
    rate = gdlab.fit(data, y="claims", x="age", family="poisson", offset="log(years)", weights="w")
    assert (
        rate.summary().splitlines()[0]
        == "Fit(claims ~ age, poisson, weights w, offset log(years), newton, 60 rows)"
    )
    plain = gdlab.fit(data, "claims ~ age", family="poisson")
    assert plain.summary().splitlines()[0] == "Fit(claims ~ age, poisson, newton, 60 rows)"

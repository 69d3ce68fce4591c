"""The model's interval of a horizon's total against statsmodels' own simulation of the model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from aifinops_cli.forecasting.model import FACTR, Z_80, fit


def test_interval_of_a_total_matches_statsmodels_simulation() -> None:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(3)
    t = np.arange(90)
    y = (500.0 + 2.0 * t) * np.array([1.1, 1.1, 1.0, 1.0, 1.0, 0.9, 0.8])[t % 7] + rng.normal(0, 40, 90)
    f = fit(y, 45)
    # the same model fitted by statsmodels (with our L-BFGS tolerance), 20,000 simulated paths
    # of its next 45 days
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ETSModel(
            y,
            error="add",
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=7,
            initialization_method="heuristic",
        ).fit(disp=False, maxiter=200, factr=FACTR)
    paths = np.asarray(res.simulate(45, repetitions=20000, anchor="end", rng=np.random.default_rng(0)))
    np.testing.assert_allclose(f.mean, res.forecast(45), rtol=1e-9)
    # per-step sd: statsmodels' exact variance formula agrees with the simulation, so does ours
    np.testing.assert_allclose(f.step_sd(), paths.std(axis=1), rtol=0.03)
    for a, b in ((0, 16), (16, 46 - 1)):  # the rest of a month, then the next one
        sums = paths[a:b].sum(axis=0)
        point, lo, hi = f.total(a, b)
        assert point == pytest.approx(sums.mean(), rel=0.005)
        # P10/P90 = point -/+ 1.2816 sd of the sum, sd including the covariance between days
        assert (hi - point) / Z_80 == pytest.approx(sums.std(), rel=0.03)
        assert lo == pytest.approx(np.percentile(sums, 10), rel=0.01)
        assert hi == pytest.approx(np.percentile(sums, 90), rel=0.01)


def test_flat_series_is_carried_forward_exactly() -> None:
    f = fit(np.full(40, 24.0), 31)
    # 31 x 24 = 744, no uncertainty in a series that never moved
    assert f.model == "constant" and f.total(0, 31) == (744.0, 744.0, 744.0)

"""One daily (or hourly) spend series: fit, forecast a horizon's total, and measure the error.

The model is statsmodels' ETS (exponential smoothing in state-space form): additive error,
additive damped trend and an additive weekly (or daily, for hours) season. Level and trend are
re-estimated at every step, so a level shift is followed within days and a linear growth is
carried forward (damped, so a short burst does not run away). Parameters are estimated by
maximum likelihood on the heuristic initial state, which is ~2.5 ms per fit.

statsmodels was chosen over statsforecast (see README, "Forecast"): statsforecast's AutoETS
was no more accurate on our backtests, depends on statsmodels and scipy itself, and pins
pandas < 3.

The printed interval is honest by construction: the model's own P10-P90 interval of the
horizon's total (its exact forecast-error variance, see `Fit`) is widened, on each side, to at least the
largest relative miss of the rolling-origin backtests at the same horizon: the model's
parameters do not know how often the series has surprised it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from aifinops_cli.errors import AifinopsError

MIN_DAYS = 14  # below this: cannot forecast
MIN_SEASONAL = 28  # four whole cycles before a weekly season is fitted
BACKTESTS = 4  # rolling origins, one season apart
FACTR, FACTR_WARM = 1e10, 1e11  # L-BFGS-B tolerances of a fit and of a warm-started backtest
Z_80 = NormalDist().inv_cdf(0.9)  # P10-P90 of a normal error: point -/+ 1.2816 sd


class ForecastUnavailable(ImportError, AifinopsError):
    """statsmodels is an optional dependency (`pip install 'aifinops[forecast]'`)."""


_SINGLE_THREADED: list[bool] = []


def _ets() -> Any:
    """statsmodels' ETSModel; on first use, BLAS is limited to one thread in this process.

    The fits are tiny (a few dozen parameters' worth of linear algebra): with OpenBLAS's own
    threads on a loaded machine an L-BFGS step took 6 ms instead of 0.2 ms (measured: 82 ms vs
    4.6 ms CPU per fit). Parallelism comes from one process per core instead (plan.py)."""
    try:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    except ImportError as exc:  # the optional extra is not installed
        raise ForecastUnavailable(
            "forecasts need statsmodels: pip install 'aifinops[forecast]' (or pip install statsmodels)"
        ) from exc
    if not _SINGLE_THREADED:
        _SINGLE_THREADED.append(True)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # slower on a busy machine, same numbers
            pass
        else:
            threadpool_limits(1)
    return ETSModel


def load_model() -> Any:
    """statsmodels' ETSModel, or ForecastUnavailable when the `forecast` extra is not installed."""
    return _ets()


@dataclass
class Fit:
    """A fitted series: the per-step mean for the next `steps` periods, and what the model says
    about its errors: the innovation variance `mse` and the weights `c` with which one period's
    error carries into the forecasts after it (c[0] = 1; for ETS(A,Ad,A)
    c[j] = alpha + beta * (phi + ... + phi^j) + gamma * [j is a multiple of the season];
    Hyndman, Koehler, Ord & Snyder 2008, ch. 6). statsmodels computes the same per-step variance
    (`get_prediction`, method "exact"); the total of a horizon needs the covariances too."""

    model: str
    mean: np.ndarray
    c: np.ndarray
    mse: float
    params: np.ndarray | None = None  # fitted parameters: start values for the backtests' fits

    def step_sd(self) -> np.ndarray:
        """Standard deviation of each step's forecast error."""
        return np.sqrt(self.mse * np.cumsum(self.c**2))

    def total(self, a: int, b: int) -> tuple[float, float, float]:
        """Mean, P10 and P90 of the sum of steps a..b-1 (0 = the first step after the data).

        The sum's error is sum_i e_i * w_i, with w_i the sum of c[s - i] over the steps s of
        the horizon at or after i; its variance is mse * sum_i w_i^2 (errors independent)."""
        if b <= a:
            return 0.0, 0.0, 0.0
        point = float(self.mean[a:b].sum())
        cum = np.cumsum(self.c[:b])
        i = np.arange(b)
        w = cum[b - 1 - i] - np.where(i < a, cum[np.clip(a - 1 - i, 0, None)], 0.0)
        sd = float(np.sqrt(self.mse * np.sum(w**2)))
        return point, point - Z_80 * sd, point + Z_80 * sd


def _weights(res: Any, steps: int, period: int | None) -> np.ndarray:
    alpha = float(res.smoothing_level)
    beta = float(res.smoothing_trend) if res.has_trend else 0.0
    phi = float(res.damping_trend) if res.damped_trend else 1.0
    gamma = float(res.smoothing_seasonal) if res.has_seasonal else 0.0
    j = np.arange(1, steps)
    phi_j = np.cumsum(phi**j)
    season = (j % period == 0) if period else np.zeros(len(j), dtype=bool)
    return np.concatenate(([1.0], alpha + beta * phi_j + gamma * season))


def fit(values: np.ndarray, steps: int, period: int = 7, start: Fit | None = None) -> Fit:
    """Fit ETS to `values` and forecast `steps` periods ahead.

    A flat series (all equal, e.g. a constant fee) is carried forward exactly: likelihood
    fitting has nothing to estimate there. Negative days (credits) are kept: they are spend.
    `start`, a fit of the same model on more data, gives the optimiser its starting point
    (a backtest converges in fewer steps; the estimate is still its own).
    """
    y = np.asarray(values, dtype=float)
    steps = max(int(steps), 1)
    if len(y) == 0 or np.allclose(y, y[0]):
        level = float(y[-1]) if len(y) else 0.0
        return Fit("constant", np.full(steps, level), np.zeros(steps), 0.0)
    ETSModel = _ets()
    seasonal = period if len(y) >= max(MIN_SEASONAL, 4 * period) else None
    spec = dict(
        error="add",
        trend="add",
        damped_trend=True,
        seasonal="add" if seasonal else None,
        seasonal_periods=seasonal,
        initialization_method="heuristic",
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        name = "ETS(A,Ad,A)" if seasonal else "ETS(A,Ad,N)"
        warm = start.params if start is not None and start.model == name else None
        # L-BFGS stops when the likelihood improves by less than factr x machine epsilon:
        # 1e10 (~2e-6 relative) moves next month's total by < 0.2% against the default 1e7 and
        # saves a fifth of the iterations; a backtest starting from the full fit's estimate
        # stops sooner still (1e11): it is a check on the error, its own estimate all the same
        factr = FACTR_WARM if warm is not None else FACTR
        try:
            res = ETSModel(y, **spec).fit(disp=False, maxiter=200, start_params=warm, factr=factr)
        except (ValueError, np.linalg.LinAlgError):
            seasonal = None
            spec.update(seasonal=None, seasonal_periods=None)
            res = ETSModel(y, **spec).fit(disp=False, maxiter=200, factr=FACTR)
        mean = np.asarray(res.forecast(steps), dtype=float)
    name = "ETS(A,Ad,A)" if seasonal else "ETS(A,Ad,N)"
    return Fit(name, mean, _weights(res, steps, seasonal), float(res.mse), np.asarray(res.params))


@dataclass
class Backtest:
    origin: int  # index of the first held-out period
    forecast: float
    actual: float

    @property
    def error_pct(self) -> float | None:
        return None if self.actual == 0 else (self.forecast - self.actual) / abs(self.actual) * 100.0


@dataclass
class Horizon:
    """What is forecast: steps a..b-1 after the data, plus `known` already spent (month to date)."""

    name: str
    a: int
    b: int
    known: float = 0.0


@dataclass
class Result:
    name: str
    point: float
    lo: float
    hi: float
    backtests: list[Backtest] = field(default_factory=list)
    backtest_share: float = 0.0  # largest backtest miss / its forecast: the interval's floor

    @property
    def mape_pct(self) -> float | None:
        errs = [abs(e) for t in self.backtests if (e := t.error_pct) is not None]
        return sum(errs) / len(errs) if errs else None


def _backtest_share(tests: list[Backtest]) -> float:
    """The largest backtest miss as a share of its forecast: the half-width, relative to the
    point, that would have held every rolling-origin backtest at this horizon."""
    shares = [abs(t.actual - t.forecast) / abs(t.forecast) for t in tests if t.forecast]
    return max(shares, default=0.0)


Extra = Callable[[int, Horizon], tuple[float, float]]


def forecast(
    values: np.ndarray,
    horizons: list[Horizon],
    period: int = 7,
    backtests: int = BACKTESTS,
    extra: Extra | None = None,
) -> tuple[Fit, list[Result]]:
    """Forecast each horizon's total and backtest it from rolling origins at the same horizon.

    Origins step back one season at a time from the last one that leaves a whole horizon of
    actuals; each refits the model on the data before it. The "known" part of a horizon (month
    to date) is exact and is added to point and interval alike. `extra(origin, horizon)` gives
    what is known apart from the model (recurring charges projected from that origin) as
    (projected, actual): added to forecast and actual of each backtest and to the forecast.
    """
    y = np.asarray(values, dtype=float)
    far = max(h.b for h in horizons)
    main = fit(y, far, period)
    tests: dict[str, list[Backtest]] = {h.name: [] for h in horizons}
    min_hist = max(MIN_DAYS, min(len(y) // 2, MIN_SEASONAL))
    origins = [len(y) - far - period * j for j in range(backtests)]
    for o in origins:
        if o < min_hist:
            break
        bt = fit(y[:o], far, period, start=main)
        for h in horizons:
            point = float(bt.mean[h.a : h.b].sum())
            actual = float(y[o + h.a : o + h.b].sum())
            add_f, add_a = extra(o, h) if extra else (0.0, 0.0)
            tests[h.name].append(Backtest(o, point + add_f, actual + add_a))
    out = []
    for h in horizons:
        point, lo, hi = main.total(h.a, h.b)
        add_f, _ = extra(len(y), h) if extra else (0.0, 0.0)
        point, lo, hi = point + add_f, lo + add_f, hi + add_f
        ts = tests[h.name]
        share = _backtest_share(ts)
        lo_w = point - max(point - lo, share * abs(point))
        hi_w = point + max(hi - point, share * abs(point))
        if y.min() >= 0:  # spend that never went below zero (no credits) will not: floor the interval
            lo_w = max(lo_w, add_f)
        out.append(Result(h.name, h.known + point, h.known + lo_w, h.known + hi_w, ts, share))
    return main, out

"""The classical anchor: exponential smoothing (ETS) fitted once, then one step ahead per row.

A recurrent network that cannot beat a well-tuned textbook model has not earned its keep, so
the anchor is the model a forecaster reaches for first. Why ETS and not ARIMA: one ETS fit takes
milliseconds to two seconds on a few thousand rows, one family covers a trend, a damped trend and
additive or multiplicative seasons, and choosing among its nine forms by AICc (as R's
`forecast::ets`) needs no differencing tests; a seasonal ARIMA needs an order search, and one
SARIMAX(1,0,1)(0,1,1,24) fit alone takes 15 s on the 4,471 hourly rows of the benchmark here.

How it is fitted and used, without peeking:
- the candidates are fitted by maximum likelihood on `values[:n_fit]` only (training and
  validation rows, original units): errors additive with no or additive season, multiplicative
  with a multiplicative season (positive data only); trend none, additive, or additive damped.
  The one with the lowest AICc wins.
- initial states: estimated with the weights for forms without a season (one or two numbers);
  for seasonal forms set by the classical heuristic instead (a moving-average decomposition of
  the first few cycles, as in Hyndman & Athanasopoulos' book, statsmodels' "heuristic"):
  estimating m + 2 initial states made the nine fits ten times slower here (41 s against 2.6 s
  on the benchmark's hourly series, season 24, on a busy machine; 9.3 s against 1.1 s on airline
  passengers) and forecast no better (test RMSE 0.066 against 0.058; airline 21.6 against 16.3).
- seasons longer than `MAX_ETS_SEASON` rows (weekly data over a year, daily data over a year)
  are too many seasonal states for ETS (R's `ets` refuses them too). Instead a seasonal profile
  is taken from an STL decomposition of the fitted rows only, smoothed by a few harmonics, and
  removed; ETS runs on the adjusted series, as R's `stlf` does, and the profile is added back
  to every prediction.
- the winner's parameters (smoothing weights and initial states) are then held fixed and the
  model is run as a filter over the whole series up to the last asked row: the prediction for
  row r is the one-step-ahead forecast made from rows 0 .. r−1, never from row r itself.

statsmodels is an optional extra (`pip install "rnnlab[classical]"`), imported inside the
functions that need it.
"""

from __future__ import annotations

import hashlib
import importlib
import warnings
from dataclasses import dataclass

import numpy as np

from rnnlab.errors import ConfigError, DataError, RnnlabError

MAX_ETS_SEASON = 24      # longer seasons are taken out with STL first
MIN_CYCLES = 2           # a season needs this many whole cycles in the fitted rows
MIN_FIT_ROWS = 10        # fewer rows than this cannot fit even simple exponential smoothing
PROFILE_HARMONICS = 8    # sine-cosine pairs that shape a long season's profile
ETS_MODULE = "statsmodels.tsa.exponential_smoothing.ets"
KEPT_FITS = 4            # fitted rows whose ETS fits are kept for the next call (`_by_aicc`)
_FITS: dict = {}


class ClassicalUnavailable(RnnlabError, ImportError):
    """The classical anchor needs statsmodels, which is not installed (an ImportError too, so a
    caller that treats the anchor as optional can skip it as it would a missing module)."""


@dataclass(frozen=True)
class EtsSpec:
    """One ETS model form: error, trend (damped or not) and season."""

    error: str = "add"                 # "add" | "mul"
    trend: str | None = None           # None | "add"
    damped: bool = False
    seasonal: str | None = None        # None | "add" | "mul"
    season: int | None = None          # rows per cycle when seasonal

    @property
    def label(self) -> str:
        """Hyndman's notation, e.g. ETS(M,Ad,M)."""
        code = {"add": "A", "mul": "M", None: "N"}
        trend = code[self.trend] + ("d" if self.damped else "")
        return f"ETS({code[self.error]},{trend},{code[self.seasonal]})"

    def model(self, ets, y: np.ndarray, initialization: str, **initial_states):
        """The statsmodels ETSModel of this form on y."""
        return ets.ETSModel(y, error=self.error, trend=self.trend, damped_trend=self.damped,
                            seasonal=self.seasonal, seasonal_periods=self.season,
                            initialization_method=initialization, **initial_states)

    @property
    def initialization(self) -> str:
        """How the initial states are set when fitting: see the module's notes."""
        return "heuristic" if self.seasonal else "estimated"


def anchor(values: np.ndarray, n_fit: int, rows: np.ndarray,
           season: int | None) -> tuple[str, np.ndarray]:
    """(name, one-step-ahead predictions (len(rows),)) of ETS fitted on values[:n_fit].

    `values` is the target in its own units, (T,); `rows` are the rows to predict, each in
    [n_fit, T); `season` is the number of rows in one cycle, or None.
    """
    ets = _statsmodels()
    y, rows = _checked(values, n_fit, rows)
    end = int(rows.max()) + 1                       # rows after the last asked one are never read
    prefix, phase, m = _adjustment(y[:n_fit], season, end)
    spec, pred = _best_one_step(ets, y[:end] - phase, n_fit, m)
    return prefix + _label(spec), (pred + phase)[rows]


def anchor_path(values: np.ndarray, n_fit: int, steps: int,
                season: int | None) -> tuple[str, np.ndarray]:
    """(name, the forecast of rows n_fit .. n_fit + steps − 1 (steps,)) of the ETS form chosen
    as `anchor` chooses it, fitted on values[:n_fit] and run forward with no later value seen:
    the classical twin of a free-running forecast from row n_fit."""
    ets = _statsmodels()
    y = _series(values, n_fit)
    _all_present(y[:n_fit])
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ConfigError(f"steps must be a whole number of at least 1. Received: steps={steps!r}")
    prefix, phase, m = _adjustment(y[:n_fit], season, n_fit + steps)
    spec, path = _best_path(ets, y[:n_fit] - phase[:n_fit], m, steps)
    return prefix + _label(spec), path + phase[n_fit:]


def _adjustment(y_fit: np.ndarray, season: int | None, end: int
                ) -> tuple[str, np.ndarray, int | None]:
    """(name prefix, seasonal profile over rows 0 .. end − 1 (end,), season left for ETS): a
    season longer than MAX_ETS_SEASON is taken out with STL first (the profile of the fitted
    rows, added back to every prediction); a shorter one, or none, is left to ETS itself."""
    m = usable_season(season, len(y_fit))
    if m is not None and m > MAX_ETS_SEASON:
        profile = _remembered("stl", y_fit, m, lambda: seasonal_profile(y_fit, m))  # (m,)
        return f"STL season {m} + ", profile[np.arange(end) % m], None
    return "", np.zeros(end), m


def _label(spec: EtsSpec) -> str:
    """'ETS(M,A,M), season 12' or 'ETS(A,N,N)'."""
    return spec.label + (f", season {spec.season}" if spec.seasonal else "")


def _best_path(ets, y_fit: np.ndarray, m: int | None, steps: int) -> tuple[EtsSpec, np.ndarray]:
    """The lowest-AICc form's forecast of `steps` rows after y_fit whose values are all numbers."""
    for spec, fit in _by_aicc(ets, y_fit, m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = np.asarray(fit.forecast(steps), dtype=float)                 # (steps,)
        if np.all(np.isfinite(path)):
            return spec, path
    raise RuntimeError(f"No ETS form fitted to {len(y_fit)} rows gave a forecast of numbers.")


def one_step(values: np.ndarray, n_fit: int, rows: np.ndarray, spec: EtsSpec):
    """(fitted results on values[:n_fit], one-step predictions at rows) for one ETS form."""
    ets = _statsmodels()
    y, rows = _checked(values, n_fit, rows)
    end = int(rows.max()) + 1
    fit = _fit(ets, y[:n_fit], spec)
    return fit, _filter(ets, y[:end], spec, fit)[rows]


def usable_season(season: int | None, n_fit: int) -> int | None:
    """The season when the fitted rows hold enough whole cycles of it, else None: MIN_CYCLES, and
    the MIN_FIT_ROWS seasonally adjusted rows (half a cycle lost at each end) that the heuristic
    initial states need."""
    if season is None or int(season) < 2:
        return None
    m = int(season)
    return m if n_fit >= max(MIN_CYCLES * m, MIN_FIT_ROWS + 2 * (m // 2)) else None


def seasonal_profile(y: np.ndarray, m: int) -> np.ndarray:
    """(m,) seasonal profile of y, indexed by row % m: STL's seasonal part, smoothed by harmonics.

    With a long season and a few cycles, each row of STL's seasonal part rests on a handful of
    values and carries their noise (a year of days over nine years: about 1 °C of day-to-day
    jitter, enough to lose to naive); its least-squares fit by PROFILE_HARMONICS sine and cosine
    pairs keeps the shape and drops the jitter.
    """
    from statsmodels.tsa.seasonal import STL

    # not robust: the robust pass costs 7× the time (5 s for a year of days) for a profile
    # that barely moves once smoothed
    seasonal = np.asarray(STL(y, period=m).fit().seasonal, dtype=float)  # (n,)
    waves = _harmonics(m, min(PROFILE_HARMONICS, m // 2))               # (m, 2K)
    phase = np.arange(len(y)) % m                                         # (n,)
    coef, *_ = np.linalg.lstsq(waves[phase], seasonal, rcond=None)        # (2K,)
    return waves @ coef                                                   # (m,), mean 0


def _harmonics(m: int, k: int) -> np.ndarray:
    """(m, 2k) sin and cos of 2πj·phase/m for j = 1..k over one cycle of m rows."""
    angle = 2 * np.pi * np.arange(m)[:, None] * np.arange(1, k + 1)[None, :] / m   # (m, k)
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


def candidates(y_fit: np.ndarray, m: int | None) -> list[EtsSpec]:
    """The ETS forms tried: every trend, with each admissible season (multiplicative if y > 0)."""
    trends = [(None, False), ("add", False), ("add", True)]
    seasons: list[tuple[str, str | None]] = [("add", None)]
    if m is not None:
        seasons.append(("add", "add"))
        if float(np.min(y_fit)) > 0:
            seasons.append(("mul", "mul"))
    return [EtsSpec(error, trend, damped, seasonal, m if seasonal else None)
            for error, seasonal in seasons for trend, damped in trends]


def _best_one_step(ets, y: np.ndarray, n_fit: int, m: int | None) -> tuple[EtsSpec, np.ndarray]:
    """The lowest-AICc form's one-step predictions over y, (len(y),)."""
    for spec, fit in _by_aicc(ets, y[:n_fit], m):
        pred = _filter(ets, y, spec, fit)
        if np.all(np.isfinite(pred[n_fit:])):       # a multiplicative form may break on later data
            return spec, pred
    raise RuntimeError("Every fitted ETS form gave predictions that are not numbers.")


def _by_aicc(ets, y_fit: np.ndarray, m: int | None) -> list[tuple[EtsSpec, object]]:
    """(form, fit) of every candidate form fitted to y_fit, lowest AICc first. The last few
    answers are kept: a run asks for the one-step anchor and its forward path, and both fit the
    same rows."""
    return _remembered("ets", y_fit, m, lambda: _fit_all(ets, y_fit, m))


def _remembered(kind: str, y: np.ndarray, m: int | None, make):
    """make(), or its answer for the same kind, rows and season when one of the last KEPT_FITS."""
    key = (kind, hashlib.sha256(np.ascontiguousarray(y, dtype=float).tobytes()).hexdigest(), m)
    if key not in _FITS:
        _FITS[key] = make()
        while len(_FITS) > KEPT_FITS:
            _FITS.pop(next(iter(_FITS)))
    return _FITS[key]


def _fit_all(ets, y_fit: np.ndarray, m: int | None) -> list[tuple[EtsSpec, object]]:
    """`_by_aicc` without the memory."""
    scored = []
    for spec in candidates(y_fit, m):
        try:
            fit = _fit(ets, y_fit, spec)
        except (ValueError, np.linalg.LinAlgError):    # a form the optimiser cannot start
            continue
        if np.isfinite(fit.aicc):
            scored.append((float(fit.aicc), spec, fit))
    if not scored:
        raise RuntimeError(f"No ETS form could be fitted to {len(y_fit)} rows.")
    return [(spec, fit) for _, spec, fit in sorted(scored, key=lambda s: s[0])]


def _fit(ets, y_fit: np.ndarray, spec: EtsSpec):
    """Maximum-likelihood fit of one form, quietly (convergence chatter is not the user's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spec.model(ets, y_fit, spec.initialization).fit(disp=False)


def _filter(ets, y: np.ndarray, spec: EtsSpec, fit) -> np.ndarray:
    """(len(y),) one-step predictions of the fitted form run over y; row r reads y[:r] only.

    The fit's initial states and weights are held fixed ("known" initial states: a heuristic
    one would be worked out again from y, and an estimated one would be estimated again).
    """
    states = {"initial_level": fit.initial_level}
    if spec.trend:
        states["initial_trend"] = fit.initial_trend
    if spec.seasonal:
        states["initial_seasonal"] = fit.initial_seasonal
    model = spec.model(ets, y, "known", **states)
    weights = dict(zip(fit.param_names, np.asarray(fit.params)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.smooth(np.array([weights[name] for name in model.param_names]))
    return np.asarray(result.fittedvalues, dtype=float)


def _series(values, n_fit) -> np.ndarray:
    """values as float64 (T,), after checking that it is one series and n_fit fits in it."""
    y = np.asarray(values, dtype=float)
    if y.ndim != 1:
        raise ConfigError(f"values must be one series (1-D). Received: shape {y.shape}")
    if not isinstance(n_fit, (int, np.integer)) or not MIN_FIT_ROWS <= n_fit <= len(y):
        raise ConfigError(f"n_fit must be a whole number in [{MIN_FIT_ROWS}, {len(y)}]. "
                          f"Received: n_fit={n_fit!r}")
    return y


def _all_present(y: np.ndarray) -> None:
    """DataError unless every value the fit or the filter reads is a number."""
    if not np.all(np.isfinite(y)):
        raise DataError("The classical anchor needs a value in every row; fill the missing "
                        "values first.")


def _checked(values, n_fit, rows) -> tuple[np.ndarray, np.ndarray]:
    """values as float64 (T,), rows as int (n,), after checking both against n_fit."""
    y = _series(values, n_fit)
    rows = np.asarray(rows).astype(int).ravel()
    if rows.size == 0 or rows.min() < n_fit or rows.max() >= len(y):
        low, high = (int(rows.min()), int(rows.max())) if rows.size else (None, None)
        raise ConfigError(f"rows must be rows after the fitted ones, in [{n_fit}, {len(y)}). "
                          f"Received: {rows.size} rows from {low} to {high}")
    _all_present(y[:int(rows.max()) + 1])
    return y, rows


def _statsmodels():
    """statsmodels' ETS module, or ClassicalUnavailable saying how to install it."""
    try:
        return importlib.import_module(ETS_MODULE)
    except ImportError:
        raise ClassicalUnavailable(
            "The classical anchor (exponential smoothing) needs statsmodels, which is not "
            "installed. Install it with: pip install \"rnnlab[classical]\"") from None

"""Target transforms: what the network learns in place of the target's own values.

A network that predicts min-max-scaled levels cannot predict a value above anything it saw in
training, and on a rising series the test part lies exactly there. Predicting the change instead
keeps the test inside the training range. Five transforms (`config.TRANSFORMS`):

- none: the values as they are.
- difference: z[t] = y[t] − y[t−1]; a forecast adds the predicted changes to the last value.
- seasonal_difference (season m): z[t] = y[t] − y[t−m]; adds each predicted change to the value
  one season earlier (itself a forecast when the horizon reaches past one season).
- log: z[t] = log y[t], for positive series that grow by a percentage; a forecast is exp(z).
- relative: every window is shifted so that its last target value is 0, and the network predicts
  the change from that value. It sees no level at all, so at worst it learns "the next value
  equals the last" (the naive forecast) and anything it learns beyond that is skill.

The first three are series transforms (`TargetTransform.forward` / `invert`), applied before
scaling, which is fitted on the transformed training rows. `relative` acts on windows of the
scaled series (`shift_windows`, `unshift`): its target column is scaled by the typical size of one
step, so that windows of a slow series and of a fast one look alike to the network.

Three spaces, and the functions between them (T rows, F columns, n windows, H horizon):
  original   the data's own units                      prepared.values (T, F)
  series     transformed, then scaled                  prepared.scaled (T, F)
  model      series windows, shifted if relative       prepared.X_* (n, L, F), y_* (n, H)
`to_original` maps a model's predictions for windows whose first predicted row is t back to the
original units; `series_to_original` does the same for values already in series space (a
free-running trajectory). Both are exact: forward then back gives the values again, to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.config import TRANSFORM_LABELS, TRANSFORMS
from rnnlab.errors import ConfigError, DataError


@dataclass(frozen=True)
class TargetTransform:
    """One transform of the target column; `lag` rows at the start have no transformed value."""

    kind: str = "none"
    season: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in TRANSFORMS:
            raise ConfigError(f"transform must be one of {', '.join(TRANSFORMS)}. "
                              f"Received: transform={self.kind!r}")
        if self.kind == "seasonal_difference" and not (self.season and self.season >= 2):
            raise ConfigError("transform 'seasonal_difference' needs a season of at least 2 rows. "
                              f"Received: season={self.season!r}")

    @property
    def lag(self) -> int:
        """Rows used up at the start: 1 for a difference, the season for a seasonal one."""
        return {"difference": 1, "seasonal_difference": int(self.season or 0)}.get(self.kind, 0)

    @property
    def relative(self) -> bool:
        """Whether windows are shifted to their last value (a window transform)."""
        return self.kind == "relative"

    @property
    def label(self) -> str:
        """The transform in plain words."""
        return TRANSFORM_LABELS[self.kind]

    def check(self, target: np.ndarray, name: str) -> None:
        """DataError when the target cannot take this transform (log of a value <= 0)."""
        if self.kind != "log":
            return
        y = np.asarray(target, dtype="float64")           # (T,)
        bad = np.flatnonzero(~(y > 0))
        if len(bad):
            raise DataError(f"The log transform needs values above 0, but {name} has "
                            f"{len(bad):,} value(s) at or below 0 (the first is {y[bad[0]]:g}, "
                            f"row {bad[0] + 1:,}). Use the difference transform instead.")

    def forward(self, target: np.ndarray) -> np.ndarray:
        """Transformed target (T,); NaN where it is undefined (the first `lag` rows)."""
        y = np.asarray(target, dtype="float64")           # (T,)
        if self.kind == "log":
            return np.log(y)
        if not self.lag:
            return y.copy()
        z = np.full_like(y, np.nan)
        z[self.lag:] = y[self.lag:] - y[:-self.lag]
        return z

    def invert(self, z: np.ndarray, t: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Original values (n, H) of rows t + h from transformed ones z (n, H).

        Row r < t reads the actual target; a row at or after t reads the value just forecast.
        """
        z = np.asarray(z, dtype="float64")                # (n, H)
        t = np.asarray(t, dtype=int)                      # (n,)
        y = np.asarray(target, dtype="float64")           # (T,)
        if self.kind == "log":
            return np.exp(z)
        if self.kind == "difference":
            return y[t - 1][:, None] + np.cumsum(z, axis=1)
        if self.kind == "seasonal_difference":
            return _undo_seasonal(z, t, y, int(self.season))
        return z.copy()


def _undo_seasonal(z: np.ndarray, t: np.ndarray, y: np.ndarray, m: int) -> np.ndarray:
    """y[t + h] = y[t + h − m] + z[h], the earlier value actual (before t) or just forecast."""
    out = np.empty_like(z)                                # (n, H)
    for h in range(z.shape[1]):
        base = y[t + h - m] if h < m else out[:, h - m]   # (n,)
        out[:, h] = base + z[:, h]
    return out


def step_scale(z_train: np.ndarray) -> float:
    """The typical size of one step of the training rows (std of the changes), 1 if none."""
    steps = np.diff(np.asarray(z_train, dtype="float64"))
    steps = steps[np.isfinite(steps)]
    spread = float(np.std(steps)) if len(steps) else 0.0
    return spread if spread > 0 else 1.0


def shift_windows(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Windows relative to their last target value: X (n, L, F) and y (n, H), copied."""
    last = X[:, -1, 0].copy()                             # (n,)
    X_rel = np.array(X, dtype="float64")                  # (n, L, F)
    X_rel[:, :, 0] -= last[:, None]
    return X_rel, np.asarray(y, dtype="float64") - last[:, None]


def _transform_of(prepared) -> TargetTransform:
    """The prepared data's transform (none for objects that carry none)."""
    return getattr(prepared, "transform", None) or TargetTransform()


def to_model(prepared, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Series-space windows (n, L, F) -> model inputs (n, L, F) and the offset (n, 1) to add back."""
    window = np.asarray(window, dtype="float64")
    if not _transform_of(prepared).relative:
        return window, np.zeros((len(window), 1))
    last = window[:, -1, 0:1]                             # (n, 1)
    shifted = window.copy()
    shifted[:, :, 0] -= last
    return shifted, last


def series_to_original(prepared, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Series-space values (n, H) for windows starting at rows t -> original units (n, H)."""
    z = prepared.scaler.inverse_target(np.asarray(values, dtype="float64"))   # (n, H)
    target = np.asarray(prepared.values, dtype="float64")[:, 0]             # (T,)
    return _transform_of(prepared).invert(z, t, target)


def to_original(prepared, predictions: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A model's outputs (n, H) for windows starting at rows t -> original units (n, H)."""
    predictions = np.asarray(predictions, dtype="float64")
    t = np.asarray(t, dtype=int)
    if _transform_of(prepared).relative:
        last = np.asarray(prepared.scaled, dtype="float64")[t - 1, 0]       # (n,)
        predictions = predictions + last[:, None]
    return series_to_original(prepared, predictions, t)


def lag_of(prepared) -> int:
    """Rows at the start of the prepared data that have no transformed value."""
    return _transform_of(prepared).lag

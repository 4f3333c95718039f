"""Per-column scaling, fitted on the training rows only.

`Scaler` learns an offset and a scale per column from the training rows: minmax (to [0, 1]),
standard (mean 0, standard deviation 1) or none, the kinds of `rnnlab.config.SCALINGS`. It maps
rows to scaled units and back (`inverse_target` for the target column alone) and round-trips
through JSON with `to_dict` and `from_dict`. A column that does not vary is divided by 1.
"""

from __future__ import annotations

import numpy as np

from rnnlab.config import SCALINGS, _check_choice
from rnnlab.errors import DataError


class Scaler:
    """Per-column scaling fitted on the training rows only: minmax (to [0, 1]), standard or none."""

    KINDS = SCALINGS

    def __init__(self, kind: str = "minmax"):
        _check_choice("scaling", kind, self.KINDS)
        self.kind = kind
        self.offset: np.ndarray | None = None    # (F,) subtracted: min or mean
        self.scale: np.ndarray | None = None     # (F,) divided by: max - min or std; 1 if constant
        self.constant: np.ndarray | None = None  # (F,) bool: the column did not vary

    def fit(self, arr: np.ndarray) -> "Scaler":
        """Learn offset and scale per column from `arr` (n, F)."""
        arr = _as_table(arr)                     # (n, F)
        if len(arr) == 0:
            raise DataError("There are no training rows to fit the scaling on. Use a longer "
                            "series or smaller validation and test parts.")
        if self.kind == "minmax":
            offset, spread = np.nanmin(arr, axis=0), np.nanmax(arr, axis=0) - np.nanmin(arr, axis=0)
        elif self.kind == "standard":
            offset, spread = np.nanmean(arr, axis=0), np.nanstd(arr, axis=0)
        else:
            offset, spread = np.zeros(arr.shape[1]), np.ones(arr.shape[1])
        self.constant = np.ptp(arr, axis=0) == 0  # (F,)
        self.offset = offset.astype("float64")
        self.scale = np.where(spread > 0, spread, 1.0).astype("float64")
        return self

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.offset is None or self.scale is None:
            raise RuntimeError("Scaler.fit must be called before transform")
        return self.offset, self.scale

    def transform(self, arr: np.ndarray) -> np.ndarray:
        """Original units -> scaled units, column by column; (n, F) -> (n, F)."""
        offset, scale = self._fitted()
        return (np.asarray(arr, dtype="float64") - offset) / scale

    def inverse_transform(self, arr: np.ndarray) -> np.ndarray:
        """Scaled units -> original units; (n, F) -> (n, F)."""
        offset, scale = self._fitted()
        return np.asarray(arr, dtype="float64") * scale + offset

    def inverse_target(self, arr: np.ndarray) -> np.ndarray:
        """Scaled target values (any shape, e.g. (n, H)) -> original units of the target (column 0)."""
        offset, scale = self._fitted()
        return np.asarray(arr, dtype="float64") * scale[0] + offset[0]

    def to_dict(self) -> dict:
        """JSON-ready: kind, offset and scale per column."""
        offset, scale = self._fitted()
        return {"kind": self.kind, "offset": offset.tolist(), "scale": scale.tolist(),
                "constant": [bool(c) for c in self.constant]}

    @classmethod
    def from_dict(cls, raw: dict) -> "Scaler":
        """Rebuild a fitted scaler from `to_dict()`."""
        scaler = cls(raw["kind"])
        scaler.offset = np.asarray(raw["offset"], dtype="float64")
        scaler.scale = np.asarray(raw["scale"], dtype="float64")
        scaler.constant = np.asarray(raw.get("constant", [False] * len(scaler.offset)), dtype=bool)
        return scaler


def _as_table(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr, dtype="float64")
    return arr[:, None] if arr.ndim == 1 else arr     # (n, F)

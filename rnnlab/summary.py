"""What a run came to, as the store keeps it: `RunSummary`.

The worker writes it when a run ends (`rnnlab.worker`); resuming, interrupting and repeating a
run add a marker or a message. In the store it is a JSON object (the runs table's `summary`
column); `RunSummary.to_dict` gives exactly that object, and `RunSummary.from_dict` reads any
stored one, old or new: a key it lacks reads as None, a key it does not know is kept in `extra`
and written back as it was.

    target, data_source, data_sha256   the column forecast, the data file and its content hash
    epochs_done, seconds_per_epoch     training's length and pace (seconds may be None)
    params, engine                     trainable parameters; {"backend": ...} it trained on
    message, notes                     why it ended as it did; notes for people (list of text)
    from_model                         a run of an uploaded model: what was done with it
    metrics                            {split: {predictor: {rmse, mae, mape, mape_note, r2, n}}}
    skill_vs_naive, sentence           1 − RMSE ÷ naive RMSE on the test part, in words
    best_baseline, skill_vs_best       the baseline with the lowest test RMSE, skill against it
    headline                           the model against the best baseline and naive, in words
    transform, season, train_range     the target's transform, season, {min, max} of training
    kind                               what the scored predictions are (teacher forced)
    baseline_notes                     {baseline: why it is not shown}
    classical                          the classical anchor's form, e.g. "ETS(M,A,M), season 12"
    future_inputs                      steps of the forecast beyond the data whose other inputs
                                       the file gave (rows past the target's last value)
    intervals                          the prediction intervals (`rnnlab.intervals`)
    resume                             queued again to continue from its checkpoint
    repeat_of                          the finished run whose results answer this one

Plain Python: the web side reads it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class RunSummary:
    """A run's summary, typed; `to_dict` is the JSON the store keeps."""

    target: str | None = None
    data_source: str | None = None
    data_sha256: str | None = None
    epochs_done: int | None = None
    seconds_per_epoch: float | None = None
    params: int | None = None
    engine: dict | None = None
    message: str | None = None
    notes: list | None = None
    from_model: str | None = None
    metrics: dict | None = None
    skill_vs_naive: float | None = None
    sentence: str | None = None
    best_baseline: str | None = None
    skill_vs_best: float | None = None
    headline: str | None = None
    transform: str | None = None
    season: int | None = None
    train_range: dict | None = None
    kind: str | None = None
    baseline_notes: dict | None = None
    classical: str | None = None
    future_inputs: int | None = None
    intervals: dict | None = None
    resume: bool | None = None
    repeat_of: str | None = None
    extra: dict = field(default_factory=dict)          # keys this class does not know, kept
    # the keys present, in the order they were first set: a key set to None is written as null,
    # one never set is left out (as the dict it replaces did)
    _keys: list = field(default_factory=list, repr=False, compare=False)

    # -- the stored form --------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict | RunSummary | None) -> RunSummary:
        """A stored summary (a dict, or None for none); a RunSummary is copied."""
        if isinstance(data, RunSummary):
            data = data.to_dict()
        out = cls()
        for key, value in (data or {}).items():
            if key in KEYS:
                setattr(out, key, value)
            else:
                out.extra[key] = value
            out._keys.append(key)
        return out

    def to_dict(self) -> dict:
        """The JSON object the store keeps: every key present, in the order it was set."""
        out = {}
        for key in self._keys:
            out[key] = getattr(self, key) if key in KEYS else self.extra.get(key)
        for key in KEYS:
            if key not in out and getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    def set(self, **values: Any) -> RunSummary:
        """Set keys (a None is kept as null); itself, for chaining."""
        for key, value in values.items():
            if key not in KEYS:
                raise TypeError(f"RunSummary has no key {key!r}")
            setattr(self, key, value)
            if key not in self._keys:
                self._keys.append(key)
        return self

    def drop(self, *keys: str) -> RunSummary:
        """Leave keys out (as if never set); itself, for chaining."""
        for key in keys:
            if key in KEYS:
                setattr(self, key, None)
            else:
                self.extra.pop(key, None)
            if key in self._keys:
                self._keys.remove(key)
        return self

    def has(self, key: str) -> bool:
        """Whether the key is present (even as null), as `key in summary` was."""
        return key in self._keys or (key in KEYS and getattr(self, key) is not None) \
            or key in self.extra

    def with_values(self, **values: Any) -> RunSummary:
        """A copy with these keys set."""
        return RunSummary.from_dict(self.to_dict()).set(**values)

    # -- what callers read ------------------------------------------------------------------------

    def split_metrics(self, split: str = "test") -> dict:
        """{predictor: {rmse, mae, ...}} of one part, {} when it was not scored."""
        metrics = self.metrics if isinstance(self.metrics, dict) else {}
        part = metrics.get(split)
        return part if isinstance(part, dict) else {}

    @property
    def test_metrics(self) -> dict:
        """{predictor: {rmse, mae, ...}} on the test part, {} when it was not scored."""
        return self.split_metrics("test")

    def scores(self, split: str = "test", predictor: str = "model") -> dict:
        """{rmse, mae, mape, mape_note, r2, n} of one predictor on one part, {} when missing."""
        scores = self.split_metrics(split).get(predictor)
        return scores if isinstance(scores, dict) else {}

    def metric(self, split: str, predictor: str, name: str):
        """One score (e.g. metric("test", "naive", "rmse")), None when it is missing."""
        return self.scores(split, predictor).get(name)

    def test_rmse(self, predictor: str = "model") -> float | None:
        """A predictor's RMSE on the test part, None when missing."""
        return self.metric("test", predictor, "rmse")

    @property
    def all_notes(self) -> list:
        """The notes, then why any baseline is not shown."""
        baseline = self.baseline_notes if isinstance(self.baseline_notes, dict) else {}
        return [*(self.notes or []), *baseline.values()]

    @property
    def interval_levels(self) -> dict:
        """{"80": {level, one_step, free_running, coverage_...}, ...}, {} without intervals."""
        levels = (self.intervals or {}).get("levels") if isinstance(self.intervals, dict) else None
        return levels if isinstance(levels, dict) else {}

    @property
    def train_bounds(self) -> tuple[float, float] | None:
        """(min, max) of the target over the training rows, None when not recorded."""
        trange = self.train_range
        if not isinstance(trange, dict):
            return None
        try:
            lo, hi = float(trange["min"]), float(trange["max"])
        except (KeyError, TypeError, ValueError):
            return None
        return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) and lo <= hi else None


KEYS = tuple(f.name for f in fields(RunSummary) if f.name not in ("extra", "_keys"))


def run_summary(value: dict | RunSummary | None) -> RunSummary:
    """A summary as a RunSummary, whether stored (a dict), missing (None) or already typed."""
    return value if isinstance(value, RunSummary) else RunSummary.from_dict(value)

"""What a run records as it trains: a row per epoch, its gradient traces, its event log.

Written by the worker, an epoch at a time (`add_epoch`, one transaction with its traces), and
read by the pages and reports: `curves` gives columns for charts, `epochs` a dict per epoch.
"""

from __future__ import annotations

import json
import time
from typing import Any

from rnnlab.store.db import gc_paused

CURVE_COLUMNS = ("epoch", "train_loss", "val_loss", "lr", "seconds", "grad_norm_mean",
                 "grad_norm_max")
LOSS_COLUMNS = ("epoch", "train_loss", "val_loss")   # what the loss charts draw
TRACE_TABLES = ("epochs", "grad_tensors", "grad_steps", "grad_time")   # rows keyed by epoch


class Telemetry:
    """The epochs, traces and events of runs; mixed into `rnnlab.store.Store`, whose database
    (`_tx`, `_rows`, `_read`, `_read_dicts`) it writes and reads."""

    # -- epochs and traces
    def add_epoch(self, run_id: str, epoch: int, *, train_loss: float | None,
                  val_loss: float | None = None, lr: float | None = None,
                  seconds: float | None = None, grad_norm_mean: float | None = None,
                  grad_norm_max: float | None = None,
                  tensor_norms: dict[str, tuple[float, float]] | None = None,
                  step_norms: list[float] | None = None,
                  through_time: dict[str, list[float]] | None = None) -> None:
        """Record one finished epoch (1-based) and its gradient traces, atomically."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, epoch, _num(train_loss), _num(val_loss), _num(lr), _num(seconds),
                        _num(grad_norm_mean), _num(grad_norm_max)))
            for tensor, (mean, mx) in (tensor_norms or {}).items():
                db.execute("INSERT OR REPLACE INTO grad_tensors VALUES (?, ?, ?, ?, ?)",
                           (run_id, epoch, tensor, _num(mean), _num(mx)))
            if step_norms is not None:
                db.execute("INSERT OR REPLACE INTO grad_steps VALUES (?, ?, ?)",
                           (run_id, epoch, json.dumps([_num(v) for v in step_norms])))
            for series, values in (through_time or {}).items():
                db.execute("INSERT OR REPLACE INTO grad_time VALUES (?, ?, ?, ?)",
                           (run_id, epoch, series, json.dumps([_num(v) for v in values])))
            db.execute("UPDATE runs SET epochs_done = ?, heartbeat_at = ? WHERE id = ?",
                       (epoch, time.time(), run_id))

    def truncate_after(self, run_id: str, epoch: int) -> None:
        """Forget epochs after `epoch` (resuming from a checkpoint at that epoch)."""
        with self._tx() as db:
            for table in TRACE_TABLES:
                db.execute(f"DELETE FROM {table} WHERE run_id = ? AND epoch > ?", (run_id, epoch))
            db.execute("UPDATE runs SET epochs_done = ? WHERE id = ?", (epoch, run_id))

    def epochs(self, run_id: str) -> list[dict]:
        """Epoch rows in order: epoch, train_loss, val_loss, lr, seconds, grad norms.

        One dict per epoch. A chart of a long run should read `curves` with only the columns
        it draws: for 10,000 epochs the loss columns take about half the time of this.
        """
        with gc_paused():
            rows = self._curve_rows(run_id, CURVE_COLUMNS)
            return [{"epoch": e, "train_loss": train, "val_loss": val, "lr": lr, "seconds": sec,
                     "grad_norm_mean": mean, "grad_norm_max": mx}
                    for e, train, val, lr, sec, mean, mx in rows]

    def curves(self, run_id: str, columns: tuple[str, ...] = CURVE_COLUMNS) -> dict[str, list]:
        """The run's epochs as columns, in epoch order: {"epoch": [1, 2, ...], "train_loss": [...]}.

        `columns` picks from CURVE_COLUMNS (LOSS_COLUMNS is what a loss chart needs); missing
        values are None, as in `epochs`. One query, one list per column and no dict per epoch;
        most of the cost is one Python object per value, so ask only for the columns you draw.
        """
        columns = tuple(columns)
        unknown = [c for c in columns if c not in CURVE_COLUMNS]
        if unknown or not columns:
            raise ValueError(f"curves columns must come from {CURVE_COLUMNS}; got {columns}")
        with gc_paused():
            rows = self._curve_rows(run_id, columns)
            if not rows:
                return {c: [] for c in columns}
            return {c: list(values) for c, values in zip(columns, zip(*rows))}

    def _curve_rows(self, run_id: str, columns: tuple[str, ...]) -> list[tuple]:
        """The epochs table's `columns` (checked names from CURVE_COLUMNS), in epoch order."""
        return self._rows(f"SELECT {', '.join(columns)} FROM epochs WHERE run_id = ? "
                          "ORDER BY epoch", (run_id,))

    def tensor_norms(self, run_id: str) -> list[dict]:
        """Per-tensor gradient norms: rows of epoch, tensor, mean, max."""
        return self._read_dicts("SELECT epoch, tensor, mean, max FROM grad_tensors WHERE run_id = ? "
                                "ORDER BY epoch, rowid", (run_id,))

    def step_norms(self, run_id: str) -> dict[int, list[float]]:
        """The global gradient norm of every step, by epoch."""
        rows = self._rows("SELECT epoch, norms FROM grad_steps WHERE run_id = ? ORDER BY epoch",
                          (run_id,))
        return {r[0]: json.loads(r[1]) for r in rows}

    def through_time(self, run_id: str) -> dict[str, dict[int, list[float]]]:
        """Gradient through time: {series: {epoch: [value per step back]}}."""
        rows = self._rows("SELECT epoch, series, value_list FROM grad_time WHERE run_id = ? "
                          "ORDER BY epoch", (run_id,))
        out: dict[str, dict[int, list[float]]] = {}
        for epoch, series, values in rows:
            out.setdefault(series, {})[epoch] = json.loads(values)
        return out

    # -- events
    def add_event(self, run_id: str, kind: str, message: str) -> None:
        """Append a line to the run's event log (started, resumed, diverged, ...)."""
        with self._tx() as db:
            db.execute("INSERT INTO events (run_id, at, kind, message) VALUES (?, ?, ?, ?)",
                       (run_id, time.time(), kind, message))

    def events(self, run_id: str) -> list[dict]:
        """The run's event log, oldest first."""
        rows = self._read("SELECT at, kind, message FROM events WHERE run_id = ? ORDER BY id",
                          (run_id,))
        return [dict(r) for r in rows]


def _num(value: Any) -> float | None:
    """A float for SQLite; NaN (no value) as None."""
    if value is None:
        return None
    value = float(value)
    return None if value != value else value

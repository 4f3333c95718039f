"""Runs of named students in a room, written straight into a store (the board's tests)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "app"))

from apphelpers import tiny_config, write_artefacts  # noqa: E402
from rnnlab.store import RunStatus, Store  # noqa: E402
from statuses import set_status  # noqa: E402


def add_student_run(store: Store, owner: str, room: str, rmse: float, name: str = "",
                    status: RunStatus = RunStatus.DONE, age: float = 0.0) -> str:
    """A finished run of a named student in a room, as the worker leaves it."""
    cfg = tiny_config(name or f"{owner}'s LSTM")
    run_id = store.create_run(cfg.to_dict(), name=cfg.name, epochs_total=3, data_sha256="abc",
                              owner=owner, room=room)
    now = time.time() - age
    set_status(store, run_id, RunStatus.RUNNING, started_at=now - 30)
    if status == RunStatus.RUNNING:
        return run_id
    for epoch in (1, 2, 3):
        store.add_epoch(run_id, epoch, train_loss=0.5 / epoch, val_loss=0.6 / epoch, lr=1e-3,
                        seconds=2.0)
    write_artefacts(store, run_id, cfg)
    metrics = {"model": {"rmse": rmse, "mae": rmse * 0.8, "n": 100},
               "naive": {"rmse": 0.2, "mae": 0.16, "n": 100}}
    set_status(store, run_id, status, finished_at=now,
               summary={"metrics": {"test": metrics}, "skill_vs_naive": 1 - rmse / 0.2,
                        "target": "value"})
    return run_id

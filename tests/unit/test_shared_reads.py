"""Reads shared by every session (`rnnlab.ui.runs`): computed once per run state, read again
when the run moves on, and equal to the store's own reads."""

from __future__ import annotations

import dataclasses

import pytest

from rnnlab import coach, ui
from rnnlab.store import RunStatus

from bench.fake_runs import add_runs


@pytest.fixture
def finished(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "home"))
    add_runs(ui.store(), 2)
    ui.runs._diagnoses.clear()
    ui.runs._curves.clear()
    ui.runs._step_norms.clear()
    return ui.store().list_runs()[0]


def test_one_computation_per_run_state(finished, monkeypatch):
    calls = []
    real = coach.diagnose_run
    monkeypatch.setattr(coach, "diagnose_run", lambda s, i: calls.append(i) or real(s, i))
    first = ui.diagnoses(finished)
    assert ui.diagnoses(finished) == first and calls == [finished.id]      # the second: cached
    moved = dataclasses.replace(finished, epochs_done=finished.epochs_done + 1)
    ui.diagnoses(moved)
    assert calls == [finished.id, finished.id]                             # a new state: read
    beat = dataclasses.replace(moved, status=RunStatus.RUNNING, heartbeat_at=123.0)
    ui.diagnoses(beat)
    assert len(calls) == 3


def test_the_shared_reads_equal_the_stores(finished):
    s = ui.store()
    assert ui.diagnoses(finished) == coach.diagnose_run(s, finished.id)
    columns = ["epoch", "train_loss", "val_loss"]
    assert ui.loss_curves(finished, columns) == s.curves(finished.id, columns)
    assert ui.step_norms(finished) == s.step_norms(finished.id) != {}
    assert len(ui.loss_curves(finished, columns)["epoch"]) > 0


def test_a_new_epoch_is_seen(finished):
    """A run that trains on: its next epoch's row shows once the run's state says so."""
    s = ui.store()
    columns = ["epoch", "train_loss"]
    n = len(ui.loss_curves(finished, columns)["epoch"])
    s.add_epoch(finished.id, n + 1, train_loss=0.5)
    assert len(ui.loss_curves(finished, columns)["epoch"]) == n            # same state: cached
    later = dataclasses.replace(finished, epochs_done=finished.epochs_done + 1)
    assert ui.loss_curves(later, columns)["epoch"][-1] == n + 1


def test_a_training_runs_reads_are_shared_for_a_few_seconds(finished, monkeypatch):
    """While a run trains (several epochs a second), a read is shared for SHARE_SECONDS; the
    next slice of time reads again."""
    s = ui.store()
    columns = ["epoch", "train_loss"]
    clock = [1_000_000.0]
    monkeypatch.setattr(ui.runs.time, "time", lambda: clock[0])
    live = dataclasses.replace(finished, status=RunStatus.RUNNING, finished_at=None)
    n = len(ui.loss_curves(live, columns)["epoch"])
    s.add_epoch(finished.id, n + 1, train_loss=0.5)
    moved_on = dataclasses.replace(live, epochs_done=live.epochs_done + 1)
    clock[0] += ui.runs.SHARE_SECONDS / 2
    assert len(ui.loss_curves(moved_on, columns)["epoch"]) == n            # shared
    clock[0] += ui.runs.SHARE_SECONDS
    assert len(ui.loss_curves(moved_on, columns)["epoch"]) == n + 1        # read again

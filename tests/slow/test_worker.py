"""The worker's catch-all, in this process (real training on tiny data, no subprocess)."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest


import pandas as pd  # noqa: E402

from rnnlab import jobs, worker  # noqa: E402
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402
from rnnlab.store import RunStatus  # noqa: E402
from statuses import set_status

pytestmark = pytest.mark.slow

CONTRACT_COLUMNS = ["split", "kind", "timestamp", "step", "actual", "model", "naive",
                    "seasonal_naive", "mean"]


def tiny(epochs=2, **model) -> RunConfig:
    return RunConfig(data=DataConfig(source="noisy_sine.csv", target="value"),
                     model=ModelConfig(**{"cell": "lstm", "n_layers": 1, "units": 4,
                                          "lookback": 5, **model}),
                     train=TrainConfig(epochs=epochs, batch_size=32, seed=3))


def _claimed(store, cfg, **kw):
    run_id = jobs.submit(store, cfg, **kw)
    assert store.claim_next_queued() == run_id
    return run_id


def test_execute_trains_evaluates_and_writes_the_artefacts(store):
    run_id = _claimed(store, tiny(2))
    assert worker.execute(store, run_id) == RunStatus.DONE
    run = store.get_run(run_id)
    assert run.status == RunStatus.DONE and run.finished_at and run.pid == os.getpid()
    assert run.epochs_done == 2 and [e["epoch"] for e in store.epochs(run_id)] == [1, 2]
    folder = store.run_dir(run_id)
    for name in ("config.json", "model.keras", "checkpoint.keras", "predictions.csv", "forecast.csv"):
        assert (folder / name).is_file(), name
    assert RunConfig.from_json((folder / "config.json").read_text()) == RunConfig.from_dict(run.config)

    pred = pd.read_csv(folder / "predictions.csv")
    assert list(pred.columns[:9]) == CONTRACT_COLUMNS
    kinds = pred.groupby(["split", "kind"]).size().to_dict()
    assert kinds == {("test", "free-running"): 100, ("test", "one-step-ahead"): 100,
                     ("val", "one-step-ahead"): 100}
    assert pred["timestamp"].iloc[0].startswith("20")  # ISO dates
    assert pred["seasonal_naive"].notna().all()  # the sample's season is 50
    free = pred[pred["kind"] == "free-running"]
    assert list(free["step"][:3]) == [1, 2, 3] and free["naive"].nunique() == 1
    forecast = pd.read_csv(folder / "forecast.csv")
    assert list(forecast.columns) == ["timestamp", "forecast", "lower_80", "upper_80",
                                      "lower_95", "upper_95"]
    assert len(forecast) == worker.FORECAST_STEPS
    assert (forecast["lower_95"] < forecast["lower_80"]).all()     # 100 validation windows

    s = run.summary
    test = s["metrics"]["test"]
    assert set(test) == {"model", "naive", "seasonal_naive", "linear_ar", "mean"}  # no anchor: off
    assert test["model"]["n"] == 100 and set(s["metrics"]) == {"val", "test"}
    assert s["skill_vs_naive"] == pytest.approx(1 - test["model"]["rmse"] / test["naive"]["rmse"])
    assert "naive forecast" in s["sentence"]
    assert s["params"] == 4 * 4 * (1 + 4 + 1) + 4 + 1
    assert s["target"] == "value" and s["data_source"] == "noisy_sine.csv"
    assert s["seconds_per_epoch"] > 0
    assert [e["kind"] for e in store.events(run_id)] == ["queued", "started", "done"]


def test_in_process_runner_cancel_and_resume_keep_every_epoch(store):
    """The in-process executor: the real worker in a thread; cancel mid-run, then resume."""
    epochs = 6
    run_id = jobs.submit(store, tiny(epochs))
    runner = jobs.Runner(store, concurrency=1, executor=jobs.InProcessExecutor(), tick_seconds=0.05)

    def cancel_after_two():
        deadline = time.monotonic() + 300
        while store.get_run(run_id).epochs_done < 2 and time.monotonic() < deadline:
            threading.Event().wait(0.02)
        jobs.cancel(store, run_id)

    canceller = threading.Thread(target=cancel_after_two, daemon=True)
    canceller.start()
    assert runner.wait_idle(timeout=300)
    run = store.get_run(run_id)
    assert run.status == RunStatus.CANCELLED, run.error
    assert 2 <= run.epochs_done < epochs and "can be resumed" in run.summary["message"]
    kept = run.epochs_done

    assert jobs.resume(store, run_id) == kept
    assert runner.wait_idle(timeout=300)
    run = store.get_run(run_id)
    assert run.status == RunStatus.DONE, run.error
    assert [e["epoch"] for e in store.epochs(run_id)] == list(range(1, epochs + 1))
    kinds = [e["kind"] for e in store.events(run_id)]
    assert kinds.count("started") == 1 and kinds.count("resumed") == 1
    runner.stop()


def test_an_echo_state_network_run_through_the_worker(store):
    run_id = _claimed(store, tiny(5, cell="esn", reservoir_size=50))
    assert worker.execute(store, run_id) == RunStatus.DONE, store.get_run(run_id).error
    run = store.get_run(run_id)
    assert run.epochs_done == 1 and store.artefact(run_id, "model.npz").is_file()
    assert run.summary["metrics"]["test"]["model"]["rmse"] > 0


def test_an_exception_ends_the_run_failed_with_message_and_traceback(store, tmp_path):
    cfg = tiny(2).replace(data={"source": str(tmp_path / "gone.csv")})
    run_id = _claimed(store, cfg, check_data=False)
    assert worker.execute(store, run_id) == RunStatus.FAILED  # never raises
    run = store.get_run(run_id)
    assert run.status == RunStatus.FAILED and "gone.csv" in run.error
    assert "Traceback (most recent call last)" in run.traceback and run.finished_at
    assert store.events(run_id)[-1]["kind"] == "failed"


def test_a_run_cancelled_before_its_worker_starts_stays_cancelled(store):
    run_id = _claimed(store, tiny(2))
    store.request_cancel(run_id)
    assert worker.execute(store, run_id) == RunStatus.CANCELLED
    run = store.get_run(run_id)
    assert run.status == RunStatus.CANCELLED and run.epochs_done == 0
    assert "before training" in run.summary["message"]


def test_a_finished_run_is_left_alone(store):
    run_id = _claimed(store, tiny(2))
    set_status(store, run_id, RunStatus.DONE, summary={"kept": 1})
    assert worker.execute(store, run_id) == RunStatus.DONE
    assert store.get_run(run_id).summary == {"kept": 1}


def test_the_worker_command_line(store):
    proc = subprocess.run([sys.executable, "-m", "rnnlab.worker", "r20260101-000000-abcdef",
                           "--home", str(store.home)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: No run 'r20260101-000000-abcdef'")
    assert "Traceback" not in proc.stderr


def test_the_heartbeat_thread_beats_and_stops(store):
    run_id = _claimed(store, tiny(2))
    store.update_run(run_id, heartbeat_at=0.0)
    with worker.Heartbeat(store, run_id, every=0.05) as beat:
        first = store.get_run(run_id).heartbeat_at
        deadline = time.monotonic() + 10
        while store.get_run(run_id).heartbeat_at == first and time.monotonic() < deadline:
            threading.Event().wait(0.02)
    assert first > 0 and store.get_run(run_id).heartbeat_at > first
    assert not beat._thread.is_alive()
    assert store.get_run(run_id).pid == os.getpid()

"""The store service and its client (rnnlab.jobs.store_service), with a direct call for transport: what
a worker on another machine sends to the head, and what it gets back. No Ray needed."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from rnnlab import lifecycle, samples
from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError, RunNotFound, StoreError
from rnnlab.store import RunStatus
from rnnlab.jobs.store_service import StoreClient, StoreService


@pytest.fixture
def pair(store, tmp_path):
    """A service on the store, and a client with a scratch folder of its own."""
    service = StoreService(store.home)
    calls = []

    def call(method, *args, **kwargs):
        calls.append((method, args[0] if method == "call" else None))
        return getattr(service, method)(*args, **kwargs)

    client = StoreClient(call, tmp_path / "node")
    client.calls = calls
    return service, client


def _running(store) -> str:
    run_id = store.create_run(RunConfig().to_dict(), epochs_total=2)
    assert lifecycle.claim_next(store) == run_id
    return run_id


def test_rows_go_to_the_head_and_errors_come_back_as_the_store_raises_them(store, pair):
    _, client = pair
    run_id = _running(store)
    assert client.get_run(run_id).status == RunStatus.RUNNING
    client.add_event(run_id, "started", "Started.")
    client.add_epoch(run_id, 1, train_loss=0.5, val_loss=0.6)
    client.heartbeat(run_id, pid=4242)
    assert store.curves(run_id, ("epoch", "train_loss"))["train_loss"] == [0.5]
    assert [e["kind"] for e in store.events(run_id)] == ["started"]
    assert not client.cancel_requested(run_id)
    store.update_run(run_id, cancel_requested=True)
    assert client.cancel_requested(run_id)
    with pytest.raises(RunNotFound):
        client.get_run("r20200101-000000-000000")
    with pytest.raises(AttributeError):
        client.delete_run(run_id)                 # not a worker's call
    service = pair[0]
    ok, exc = service.call("delete_run", (run_id,))
    assert not ok and isinstance(exc, StoreError)


def test_files_stay_on_the_node_until_sent_and_a_final_status_sends_them_first(store, pair):
    _, client = pair
    run_id = _running(store)
    folder = client.run_dir(run_id)
    assert folder != store.run_dir(run_id) and folder.is_relative_to(client.home)
    client.artefact(run_id, "config.json").write_text("{}")
    client.artefact(run_id, "checkpoint.keras").write_bytes(b"weights")
    client.artefact(run_id, "checkpoint.json").write_text('{"epoch": 1, "iterations": 3}')
    assert not store.artefact(run_id, "checkpoint.keras").exists()
    client.files_changed(run_id, ("checkpoint.keras", "checkpoint.json"))   # after an epoch
    assert store.artefact(run_id, "checkpoint.keras").read_bytes() == b"weights"
    assert not store.artefact(run_id, "config.json").exists()
    assert client.push_files(run_id) == ["config.json"]        # only what changed
    assert client.push_files(run_id) == []
    client.artefact(run_id, "predictions.csv").write_text("a\n1\n")
    assert lifecycle.finish(client, run_id, RunStatus.DONE, summary={"epochs_done": 2})
    assert store.artefact(run_id, "predictions.csv").read_text() == "a\n1\n"
    assert store.get_run(run_id).status == RunStatus.DONE
    assert not [p for p in store.run_dir(run_id).iterdir() if p.name.startswith(".")]
    with pytest.raises(StoreError):
        client.artefact(run_id, "../escape")


def test_a_resumed_run_gets_its_files_from_the_head(store, pair):
    _, client = pair
    run_id = _running(store)
    store.artefact(run_id, "checkpoint.keras").write_bytes(b"w")
    store.artefact(run_id, "checkpoint.json").write_text('{"epoch": 2, "iterations": 6}')
    assert client.pull_files(run_id) == ["checkpoint.json", "checkpoint.keras"]
    assert client.artefact(run_id, "checkpoint.keras").read_bytes() == b"w"
    assert client.push_files(run_id) == []          # nothing new to send back
    client.forget(run_id)
    assert not (client.runs_dir / run_id).exists()


def test_data_reaches_the_node_by_its_hash_once(store, pair, tmp_path):
    service, client = pair
    data = tmp_path / "uploads" / "series.csv"
    data.parent.mkdir()
    data.write_text("date,value\n2020-01-01,1\n")
    sha = hashlib.sha256(data.read_bytes()).hexdigest()
    with pytest.raises(StoreError, match="not one the runner shared"):
        client.fetch_data(sha, "series.csv")
    service.register_data(sha, str(data))
    local = client.fetch_data(sha, "series.csv")
    assert local.name == "series.csv" and local.read_bytes() == data.read_bytes()
    client.calls.clear()
    assert client.fetch_data(sha, "series.csv") == local and client.calls == []   # cached
    data.write_text("changed")
    with pytest.raises(StoreError, match="changed since"):
        service.get_data(sha)
    samples.LOCAL_COPIES[str(data)] = local
    try:
        assert samples.resolve_source(str(data)) == local
        assert samples.resolve_source("noisy_sine.csv") == samples.sample_path("noisy_sine.csv")
    finally:
        samples.LOCAL_COPIES.clear()


def test_the_ray_executor_is_chosen_by_name_without_importing_ray(monkeypatch):
    code = ("import sys; from rnnlab import jobs\n"
            "try:\n    ex = jobs.make_executor('ray')\n"
            "except Exception as exc:\n    print(type(exc).__name__); sys.exit(0)\n"
            "print(type(ex).__name__, 'ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60).stdout.split()
    assert out in (["RayExecutor", "False"], ["ConfigError"])
    from rnnlab.jobs import ray_cluster as ray_executor

    monkeypatch.setattr(ray_executor, "ray_installed", lambda: False)
    with pytest.raises(ConfigError, match=r"pip install 'rnnlab\[ray\]'"):
        ray_executor.RayExecutor()

"""Put a test's run into a status through the real lifecycle verbs, as a worker or runner would."""

from __future__ import annotations

from rnnlab import lifecycle
from rnnlab.store import RunStatus


def set_status(store, run_id: str, status, **values) -> None:
    """Move a run to `status` the way it would get there: start a queued run, then finish or
    fail it; `values` (summary, error, finished_at, ...) are written with the last move."""
    status = RunStatus(status)
    current = store.get_run(run_id).status
    if status == RunStatus.RUNNING:
        assert lifecycle.start(store, run_id, **values) if current == RunStatus.QUEUED \
            else lifecycle.record_pid(store, run_id, values.pop("pid", None)) or True
        if values and current != RunStatus.QUEUED:
            store.update_run(run_id, **values)
        return
    if status == RunStatus.FAILED:
        assert lifecycle.fail(store, run_id, **values), f"{run_id} cannot fail from {current.value}"
        return
    if current == RunStatus.QUEUED:
        assert lifecycle.start(store, run_id)
    assert lifecycle.finish(store, run_id, status, **values), \
        f"{run_id} cannot go from {store.get_run(run_id).status.value} to {status.value}"

"""What people do to a run once it is queued: cancel, resume, delete; and recovery at start-up.

A cancel of a queued run is immediate; a running one is asked to stop at its next batch. Resume
queues an interrupted or cancelled run again, to continue from its last epoch checkpoint.
`recover` marks interrupted the running runs whose worker is gone while no runner watched.
"""

from __future__ import annotations

import os

from rnnlab import artefacts, lifecycle
from rnnlab import cells
from rnnlab.errors import CheckpointError, RnnlabError
from rnnlab.jobs.executors import Executor
from rnnlab.jobs.process import LocalProcessExecutor
from rnnlab.store import RESUMABLE, RunStatus, Store


def checkpoint_epoch(store: Store, run_id: str) -> int | None:
    """The epoch of the run's last checkpoint, or None when there is no usable one."""
    return artefacts.checkpoint_epoch(store.run_dir(run_id))


def cancel(store: Store, run_id: str) -> RunStatus:
    """Cancel a queued run (it never starts) or ask a running one to stop at its next batch."""
    run = store.get_run(run_id)
    if run.status.finished:
        raise RnnlabError(f"Run {run_id} has already ended ({run.status.value}); there is nothing "
                          "to cancel. `rnnlab rm` deletes it.")
    status = store.request_cancel(run_id)
    if status == RunStatus.RUNNING:
        store.add_event(run_id, "cancel requested", "Asked to stop at the next batch.")
    return status


def resume(store: Store, run_id: str) -> int:
    """Queue an interrupted or cancelled run to continue from its checkpoint; the epoch it resumes from."""
    run = store.get_run(run_id)
    if run.status not in RESUMABLE:
        raise RnnlabError(f"Run {run_id} is {run.status.value}; only interrupted or cancelled runs "
                          "can be resumed. Submit a new run to train again.")
    epoch = checkpoint_epoch(store, run_id)
    esn = cells.of(run.config.get("model", {}).get("cell")).fitted   # no epochs to resume
    if epoch is None and run.epochs_done > 0 and not esn:
        raise CheckpointError(f"Run {run_id} has {run.epochs_done} epoch(s) but no readable "
                              f"checkpoint in {store.run_dir(run_id)}, so it cannot continue. "
                              "Submit the same config as a new run instead.")
    from_epoch = 0 if esn or epoch is None else epoch
    summary = run.result.with_values(resume=from_epoch > 0).drop("message")
    if not lifecycle.requeue(store, run_id, summary=summary.to_dict(),
                            cancel_requested=0, finished_at=None, error=None, traceback=None):
        raise RnnlabError(f"Run {run_id} changed status while resuming it; look at it again "
                          "with `rnnlab show` and retry.")
    note = f"from epoch {from_epoch}" if from_epoch else "from the start"
    store.add_event(run_id, "resume requested", f"Queued to continue {note}.")
    return from_epoch


def delete(store: Store, run_id: str) -> None:
    """Delete a run's rows and folder; a queued run is cancelled first, a running one refused."""
    if store.get_run(run_id).status == RunStatus.QUEUED:
        store.request_cancel(run_id)
    store.delete_run(run_id)


def recover(store: Store, executor: Executor | None = None) -> list[str]:
    """Mark interrupted the running runs whose process is gone (a killed foreground `rnnlab
    train`, a worker that died while no runner watched); the ids marked. Resumable at once.

    Only a worker that `executor` (by default the local process executor) knows to be gone
    counts (a silent heartbeat is the runner's call): a run without a worker, one trained by
    this very process or one it cannot tell about, is left alone. Nothing on a read-only store.
    """
    if store.read_only:
        return []
    executor = executor or LocalProcessExecutor(spare=False)
    marked = []
    for run in store.list_runs((RunStatus.RUNNING,)):
        if run.worker is None or run.pid == os.getpid() or executor.alive(run.worker):
            continue
        message = (f"Interrupted at epoch {run.epochs_done} of {run.epochs_total}: its process "
                   f"({run.worker_label}) is gone. Resume it to continue from its last checkpoint.")
        summary = run.result.with_values(message=message).to_dict()
        if lifecycle.interrupt(store, run.id, summary=summary):
            store.add_event(run.id, "interrupted", message)
            marked.append(run.id)
    return marked

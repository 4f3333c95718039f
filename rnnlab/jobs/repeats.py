"""Repeats: a run whose settings, data and seed equal another's is answered from its results.

Training again would give the same numbers, so `submit` links such a run to its twin
(`Store.find_twin`); it is answered at once when the twin is done, or as soon as it is done
(`answer_repeats`, every tick of the runner). A twin that diverged answers the same way (a
lesson's run that explodes on purpose: the same seed diverges at the same epoch,
tests/slow/test_repeats.py). A twin that ends any other way, or is deleted, lets the repeat
train itself.
"""

from __future__ import annotations

from rnnlab import lifecycle
from rnnlab.errors import RunNotFound
from rnnlab.store import RunRecord, RunStatus, Store


def engine() -> dict:
    """What a worker trains on, as the summary records it: repeats need the same."""
    from rnnlab import backend

    return {"backend": backend.wanted()}


def repeat_message(twin: RunRecord) -> str:
    """The event of a repeat: whose results it shows, and how to train anyway."""
    who = f"'{twin.name}' ({twin.id})" if twin.name else twin.id
    when = ("which has finished" if twin.status in lifecycle.ANSWERS else
            "which is still training; its results appear here when it finishes")
    return (f"Same settings, data and seed as run {who}, {when}. Training again would give the "
            "same numbers, so this run shows that run's results. To train anyway, use 'Train "
            "again anyway' on the Train page (or `rnnlab submit --no-reuse`).")


def answer(store: Store, run_id: str, source_id: str) -> bool:
    """Answer the repeat `run_id` from its finished twin (queued -> done, or diverged)."""
    if not lifecycle.answer(store, run_id, source_id):
        return False
    ended = store.get_run(run_id).status.value          # done, or diverged as its twin did
    store.add_event(run_id, ended, f"Answered from run {source_id} without training.")
    return True


def answer_repeats(store: Store) -> list[str]:
    """Settle the repeats waiting for a twin: answered when it is done, trained themselves
    when it ended any other way. The ids answered."""
    answered = []
    for run in store.list_runs((RunStatus.QUEUED,)):
        if not run.repeat_of:
            continue
        try:
            twin = store.get_run(run.repeat_of)
        except RunNotFound:
            twin = None
        if twin is not None and twin.status in (RunStatus.QUEUED, RunStatus.RUNNING):
            continue
        if twin is not None and twin.status in lifecycle.ANSWERS:
            if answer(store, run.id, twin.id):
                answered.append(run.id)
            continue
        ended = twin.status.value if twin is not None else "deleted"
        store.release_repeat(run.id)
        store.add_event(run.id, "queued", f"The run it repeated was {ended}, so it trains "
                                          "itself.")
    return answered

"""A class on one server: fair turns between owners, a cap on waiting runs per owner, and
repeats answered from a finished twin instead of trained again (no TensorFlow: fake workers)."""

import json

import pytest

from rnnlab import jobs
from rnnlab.config import RunConfig
from rnnlab.jobs import QueueFull, Runner
from rnnlab.store import RunStatus
from statuses import set_status
from test_jobs_runner import FakeExecutor

SINE = RunConfig().replace(train={"epochs": 3})


def queue(store, owner, n=1, **kw):
    return [jobs.submit(store, SINE.replace(name=f"{owner} {i}"), check_data=False, owner=owner,
                        **kw) for i in range(n)]


# -- fair turns ---------------------------------------------------------------------------------
def test_one_owner_with_ten_runs_does_not_make_three_others_wait(store):
    """A queues 10 runs first, then B, C and D one each; one run at a time: B, C and D start
    before A's second run."""
    fake = FakeExecutor()
    runner = Runner(store, concurrency=1, executor=fake)
    a = queue(store, "Ada", 10)
    others = queue(store, "Bo") + queue(store, "Cy") + queue(store, "Di")
    order = []
    while len(order) < 13:
        started = runner.tick()
        assert len(started) == 1
        order += started
        fake.finish(started[0])
    runner.stop()
    assert order[0] == a[0]
    assert order.index(a[1]) > max(order.index(r) for r in others)
    assert order[1:4] == others                   # in the order they were queued
    assert [r for r in order if r in a] == a      # Ada's own runs keep their order


def test_the_owner_with_fewest_runs_running_goes_first(store):
    fake = FakeExecutor()
    runner = Runner(store, concurrency=2, executor=fake)
    a = queue(store, "Ada", 3)
    b = queue(store, "Bo", 1)
    assert runner.tick() == [a[0], b[0]]          # Ada running 1, Bo 0: Bo's run is second
    runner.stop()


def test_without_owners_the_queue_is_oldest_first(store):
    ids = queue(store, "", 4)
    assert store.queue_order() == ids


# -- a cap per owner ----------------------------------------------------------------------------
def test_an_owner_over_the_cap_is_refused_with_what_to_do(store, monkeypatch):
    monkeypatch.setenv(jobs.MAX_QUEUED_ENV, "2")
    queue(store, "Ada", 2)
    with pytest.raises(QueueFull, match=r"Ada, you already have 2 runs waiting.*2 at a time.*"
                                        r"cancel one on the Train page"):
        queue(store, "Ada")
    assert store.queued_count("Ada") == 2
    queue(store, "Bo")                                # others are not held up
    queue(store, "", 5)                               # nor sessions without a name
    with pytest.raises(QueueFull):
        jobs.submit_seeds(store, SINE, 3, check_data=False, owner="Bo")
    set_status(store, store.queue_order()[0], RunStatus.RUNNING)   # one of Ada's starts
    queue(store, "Ada")


def test_a_bad_cap_is_said_plainly(store, monkeypatch):
    monkeypatch.setenv(jobs.MAX_QUEUED_ENV, "ten")
    with pytest.raises(jobs.ConfigError, match="RNNLAB_MAX_QUEUED_PER_USER must be a whole"):
        queue(store, "Ada")


def test_runs_record_their_owner_and_room(store):
    run_id = jobs.submit(store, SINE, check_data=False, owner="Ada", room="R2D2")
    run = store.get_run(run_id)
    assert (run.owner, run.room, run.repeat_of) == ("Ada", "R2D2", "")
    group_id, ids = jobs.submit_seeds(store, SINE, 2, check_data=False, owner="Bo", room="R2D2")
    assert {(r.owner, r.room) for r in store.group_runs(group_id)} == {("Bo", "R2D2")}


# -- instant repeats ----------------------------------------------------------------------------
def finished_twin(store, cfg=SINE, engine=None):
    """Train nothing: a run of `cfg` on the sine sample, marked done with results and files."""
    run_id = jobs.submit(store, cfg.replace(name="first"), owner="Ada")
    set_status(store, run_id, RunStatus.RUNNING)
    for epoch in (1, 2, 3):
        store.add_epoch(run_id, epoch, train_loss=1.0 / epoch, val_loss=2.0 / epoch)
    store.artefact(run_id, "predictions.csv").write_text("split,kind\ntest,x\n")
    summary = {"skill_vs_naive": 0.25, "engine": engine or jobs.engine()}
    set_status(store, run_id, RunStatus.DONE, summary=summary, epochs_done=3)
    return run_id


def test_the_same_settings_data_and_seed_are_answered_from_the_finished_run(store):
    twin = finished_twin(store)
    again = jobs.submit(store, SINE.replace(name="Bo's run"), owner="Bo")
    run = store.get_run(again)
    assert run.status == RunStatus.DONE and run.repeat_of == twin and run.owner == "Bo"
    assert run.name == "Bo's run" and run.summary["skill_vs_naive"] == 0.25
    assert run.summary["repeat_of"] == twin and run.epochs_done == 3
    assert [e["train_loss"] for e in store.epochs(again)] == [1.0, 0.5, 1.0 / 3]
    assert store.artefact(again, "predictions.csv").read_text() == "split,kind\ntest,x\n"
    kinds = [e["kind"] for e in store.events(again)]
    assert kinds == ["repeat", "done"]
    assert "Train again anyway" in store.events(again)[0]["message"]
    store.delete_run(twin)                         # the repeat keeps its own copy
    assert store.artefact(again, "predictions.csv").is_file() and store.epochs(again)


@pytest.mark.parametrize("change", [
    {"train": {"seed": 43}}, {"model": {"units": 16}}, {"data": {"source": "airline_passengers.csv"}},
])
def test_another_seed_setting_or_data_trains(store, change):
    finished_twin(store)
    run = store.get_run(jobs.submit(store, SINE.replace(**change)))
    assert run.status == RunStatus.QUEUED and run.repeat_of == ""


def test_train_again_anyway_and_another_engine_train(store):
    finished_twin(store, engine={"backend": "another"})
    assert store.get_run(jobs.submit(store, SINE)).status == RunStatus.QUEUED
    finished_twin(store)
    assert store.get_run(jobs.submit(store, SINE, reuse=False)).status == RunStatus.QUEUED


def test_a_repeat_of_a_run_still_training_waits_then_takes_its_results(store):
    """Thirty students pressing Run on one lesson: the first run trains, the rest wait for it."""
    fake = FakeExecutor()
    runner = Runner(store, concurrency=2, executor=fake)
    first = jobs.submit(store, SINE, owner="s0")
    repeats = [jobs.submit(store, SINE, owner=f"s{i}") for i in range(1, 30)]
    assert {store.get_run(r).repeat_of for r in repeats} == {first}
    assert runner.tick() == [first]                # the waiting repeats are never started
    assert runner.tick() == []
    store.add_epoch(first, 1, train_loss=0.5, val_loss=0.6)
    store.update_run(first, summary={"skill_vs_naive": 0.1, "engine": jobs.engine()},
                     epochs_done=1)
    fake.finish(first, RunStatus.DONE)
    runner.tick()
    runner.stop()
    for r in repeats:
        run = store.get_run(r)
        assert run.status == RunStatus.DONE and run.summary["skill_vs_naive"] == 0.1
        assert [e["train_loss"] for e in store.epochs(r)] == [0.5]
    assert [rid for rid, _ in fake.started] == [first]


def test_a_repeat_of_a_diverged_run_diverges_with_it(store):
    """A lesson's run that diverges on purpose: the same seed diverges at the same step, so a
    class's repeats take its result (diverged, its message) rather than each training it."""
    fake = FakeExecutor()
    runner = Runner(store, concurrency=1, executor=fake)
    first = jobs.submit(store, SINE)
    waiting = jobs.submit(store, SINE)
    assert runner.tick() == [first]
    store.add_epoch(first, 1, train_loss=float("nan"))
    store.update_run(first, summary={"message": "The loss became NaN at epoch 1.",
                                     "engine": jobs.engine()}, epochs_done=1)
    fake.finish(first, RunStatus.DIVERGED)
    runner.tick()
    later = jobs.submit(store, SINE)                 # after the twin ended: answered at once
    runner.stop()
    assert [rid for rid, _ in fake.started] == [first]
    for r in (waiting, later):
        run = store.get_run(r)
        assert run.status == RunStatus.DIVERGED and run.repeat_of == first
        assert run.result.message == "The loss became NaN at epoch 1."
        assert run.epochs_done == 1 and len(store.epochs(r)) == 1


@pytest.mark.parametrize("ending", [RunStatus.FAILED, RunStatus.CANCELLED])
def test_a_repeat_whose_twin_does_not_finish_trains_itself(store, ending):
    fake = FakeExecutor()
    runner = Runner(store, concurrency=1, executor=fake)
    first = jobs.submit(store, SINE)
    repeat = jobs.submit(store, SINE)
    assert runner.tick() == [first]
    fake.finish(first, ending)
    assert runner.tick() == [repeat]
    runner.stop()
    assert store.get_run(repeat).repeat_of == ""
    assert "trains itself" in store.events(repeat)[-1]["message"]


def test_an_old_store_gains_owner_room_and_repeat_columns(tmp_path):
    import sqlite3

    from rnnlab.store import SCHEMA_VERSION, Store

    Store(tmp_path)
    db = sqlite3.connect(tmp_path / "rnnlab.sqlite")
    db.execute("DROP INDEX runs_owner")
    for column in ("owner", "room", "repeat_of"):      # a schema-2 store had none of them
        db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.execute("INSERT INTO runs (id, status, created_at, config) VALUES "
               "('r20260101-000000-abcdef', 'done', 1, ?)", (json.dumps({}),))
    db.commit()
    db.close()
    store = Store(tmp_path)
    assert store.schema_version() == SCHEMA_VERSION == 3
    assert store.get_run("r20260101-000000-abcdef").owner == ""
    assert store.queue_order() == []


def test_the_queue_order_is_the_order_the_runner_takes_them(store):
    queue(store, "Ada", 4)
    queue(store, "Bo", 2)
    queue(store, "Cy")
    queue(store, "", 2)
    predicted = store.queue_order()
    fake = FakeExecutor()
    runner = Runner(store, concurrency=9, executor=fake)
    assert runner.tick() == predicted
    runner.stop()
    owners = [store.get_run(r).owner for r in predicted]
    assert owners[:4] == ["Ada", "Bo", "Cy", ""]          # everyone's first run first

"""The job runner's queue logic, driven tick by tick with a fake executor (no TensorFlow)."""

import os
import subprocess
import sys
import threading
import time

import pytest

from rnnlab import jobs, lifecycle
from rnnlab.config import RunConfig
from rnnlab.errors import CheckpointError, ConfigError, RnnlabError
from rnnlab.jobs import Executor, Runner, WorkerEnd
from rnnlab.store import RunStatus, Store
from statuses import set_status


class FakeExecutor(Executor):
    """Pretends to start workers: records them; the test decides how each one ends."""

    name = "fake"

    def __init__(self, *, finish_at_once: RunStatus | None = None):
        self.started: list[tuple[str, bool]] = []
        self.live: set[str] = set()
        self.ended: list[WorkerEnd] = []
        self.killed: list[str] = []
        self.finish_at_once = finish_at_once
        self.store = None
        self.max_live = 0

    def start(self, store, run_id, *, resume, threads=None):
        self.store = store
        self.started.append((run_id, resume))
        store.heartbeat(run_id, pid=os.getpid())
        if self.finish_at_once:
            set_status(store, run_id, self.finish_at_once, finished_at=time.time())
            self.ended.append(WorkerEnd(run_id, 0))
        else:
            self.live.add(run_id)
            self.max_live = max(self.max_live, len(self.live))
        return os.getpid()

    def finish(self, run_id, status=RunStatus.DONE, returncode=0):
        """The worker of run_id ends, having written `status` (None: wrote nothing)."""
        if status is not None:
            set_status(self.store, run_id, status, finished_at=time.time())
        self.live.discard(run_id)
        self.ended.append(WorkerEnd(run_id, returncode, "last words"))

    def reap(self):
        ended, self.ended = self.ended, []
        return ended

    def owns(self, run_id):
        return run_id in self.live

    def stop(self, handle, run_id):
        self.killed.append(run_id)


def _queue(store, n=1, **cfg):
    run_cfg = RunConfig().replace(train={"epochs": 3}, **cfg)
    return [jobs.submit(store, run_cfg, check_data=False) for _ in range(n)]


@pytest.fixture
def fake():
    return FakeExecutor()


@pytest.fixture
def runner(store, fake):
    r = Runner(store, concurrency=2, executor=fake)
    yield r
    r.stop()


def _status(store, run_id):
    return store.get_run(run_id).status


def test_submit_queues_with_the_epoch_count_and_returns_at_once(store):
    run_id = jobs.submit(store, RunConfig().replace(train={"epochs": 7}, name="a"), check_data=False)
    run = store.get_run(run_id)
    assert run.status == RunStatus.QUEUED and run.epochs_total == 7 and run.name == "a"
    assert RunConfig.from_dict(run.config).train.epochs == 7
    assert [e["kind"] for e in store.events(run_id)] == ["queued"]


def test_submit_refuses_anything_but_a_run_config(store):
    with pytest.raises(ConfigError, match="submit needs a RunConfig"):
        jobs.submit(store, {"train": {}}, check_data=False)


def test_submit_makes_file_paths_absolute(store, tmp_path, monkeypatch):
    (tmp_path / "d.csv").write_text("x\n1\n")
    monkeypatch.chdir(tmp_path)
    run_id = jobs.submit(store, RunConfig().replace(data={"source": "d.csv"}), check_data=False)
    assert store.get_run(run_id).config["data"]["source"] == str(tmp_path / "d.csv")
    kept = jobs.submit(store, RunConfig().replace(data={"source": "noisy_sine.csv"}), check_data=False)
    assert store.get_run(kept).config["data"]["source"] == "noisy_sine.csv"


def test_oldest_first_up_to_the_concurrency_limit(store, fake, runner):
    ids = _queue(store, 5)
    assert runner.tick() == ids[:2]
    assert runner.tick() == []  # both slots busy
    fake.finish(ids[1])
    assert runner.tick() == [ids[2]]
    fake.finish(ids[0])
    fake.finish(ids[2])
    assert runner.tick() == ids[3:5]
    assert fake.max_live == 2
    assert [rid for rid, _ in fake.started] == ids


def test_runs_running_elsewhere_count_against_the_limit(store, fake, runner):
    # e.g. a run trained in the foreground by the CLI, alive and heartbeating
    other = _queue(store)[0]
    store.claim_next_queued(pid=os.getpid())
    ids = _queue(store, 2)
    assert runner.tick() == [ids[0]]
    assert _status(store, other) == RunStatus.RUNNING


def test_a_cancelled_queued_run_never_starts(store, fake, runner):
    first, second = _queue(store, 2)
    assert jobs.cancel(store, first) == RunStatus.CANCELLED
    assert runner.tick() == [second]
    assert first not in [rid for rid, _ in fake.started]
    assert _status(store, first) == RunStatus.CANCELLED


def test_cancel_of_a_running_run_is_a_request(store, fake, runner):
    run_id = _queue(store)[0]
    runner.tick()
    assert jobs.cancel(store, run_id) == RunStatus.RUNNING
    assert store.cancel_requested(run_id)
    fake.finish(run_id, RunStatus.CANCELLED)
    runner.tick()
    with pytest.raises(RnnlabError, match="already ended \\(cancelled\\)"):
        jobs.cancel(store, run_id)


def test_a_dead_pid_marks_the_run_interrupted(store, runner):
    run_id = _queue(store)[0]
    store.claim_next_queued()
    store.heartbeat(run_id, pid=_dead_pid())
    runner.tick()
    run = store.get_run(run_id)
    assert run.status == RunStatus.INTERRUPTED and run.finished_at is not None
    assert "is gone" in run.summary["message"]


def test_a_worker_that_ended_on_a_full_disk_leaves_its_run_resumable(store, fake, runner):
    run_id = _queue(store)[0]
    runner.tick()
    store.artefact(run_id, "log.txt").write_text("Run failed: The disk is full: ...\n")
    fake.live.discard(run_id)
    fake.ended.append(WorkerEnd(run_id, lifecycle.EXIT_DISK_FULL, "Run failed: ..."))
    runner.tick()
    run = store.get_run(run_id)
    assert run.status == RunStatus.INTERRUPTED
    assert ("its worker could not write to the run store; the disk was full. Free some space"
            in run.summary["message"])
    assert jobs.resume(store, run_id) == 0       # no checkpoint yet: it starts over
    assert store.get_run(run_id).status == RunStatus.QUEUED


def test_a_worker_that_could_not_record_its_end_leaves_its_run_resumable(store, fake, runner):
    run_id = _queue(store)[0]
    runner.tick()
    fake.live.discard(run_id)
    fake.ended.append(WorkerEnd(run_id, lifecycle.EXIT_UNRECORDED, ""))
    runner.tick()
    run = store.get_run(run_id)
    assert run.status == RunStatus.INTERRUPTED
    assert "its worker could not record how the run ended. Resume it" in run.summary["message"]


def test_a_dead_worker_whose_log_says_the_disk_was_full_says_so(store, runner):
    """A worker that could not even record its failure left only its log to say why."""
    run_id = _queue(store)[0]
    store.claim_next_queued()
    store.artefact(run_id, "log.txt").write_text(
        "error: The disk is full: the run store at /x could not be written.\n")
    store.heartbeat(run_id, pid=_dead_pid())
    runner.tick()
    run = store.get_run(run_id)
    assert run.status == RunStatus.INTERRUPTED
    assert run.summary["message"].endswith(
        "is gone; its log says the disk was full. Free some space on that disk (delete old "
        "runs, for example), then resume it to continue from its last checkpoint.")
    assert store.events(run_id)[-1]["kind"] == "interrupted"


def test_a_stale_heartbeat_marks_the_run_interrupted_and_kills_it(store, fake):
    runner = Runner(store, concurrency=1, executor=fake, stale_after=0.2)
    run_id = _queue(store)[0]
    runner.tick()
    assert _status(store, run_id) == RunStatus.RUNNING
    store.update_run(run_id, heartbeat_at=time.time() - 1.0)
    runner.tick()
    assert _status(store, run_id) == RunStatus.INTERRUPTED
    assert fake.killed == [run_id]
    assert "no heartbeat" in store.get_run(run_id).summary["message"]
    runner.stop()


def test_a_live_worker_of_another_runner_is_left_alone(store, runner):
    run_id = _queue(store)[0]
    store.claim_next_queued()
    store.heartbeat(run_id, pid=os.getpid())
    runner.tick()
    assert _status(store, run_id) == RunStatus.RUNNING


def test_a_foreground_run_of_the_cli_is_left_alone_by_a_process_runner(store):
    run_id = _queue(store)[0]
    store.claim_next_queued()
    store.heartbeat(run_id, pid=os.getpid())  # pytest, not `python -m rnnlab.worker`
    runner = Runner(store, concurrency=1, executor=jobs.LocalProcessExecutor())
    assert runner.tick() == []
    assert _status(store, run_id) == RunStatus.RUNNING
    runner.stop()


def test_a_killed_child_is_interrupted_and_a_crashed_one_failed(store, fake, runner):
    killed, crashed = _queue(store, 2)
    runner.tick()
    fake.finish(killed, status=None, returncode=-9)
    fake.finish(crashed, status=None, returncode=1)
    runner.tick()
    assert _status(store, killed) == RunStatus.INTERRUPTED
    assert "signal 9" in store.get_run(killed).summary["message"]
    run = store.get_run(crashed)
    assert run.status == RunStatus.FAILED and "exit code 1" in run.error
    assert run.traceback == "last words"


def test_a_worker_that_cannot_start_fails_its_run_and_the_queue_goes_on(store, fake, runner):
    first, second = _queue(store, 2)
    real_start = fake.start

    def start(store_, run_id, **kw):
        if run_id == first:
            raise OSError("no such interpreter")
        return real_start(store_, run_id, **kw)

    fake.start = start
    runner.tick()
    run = store.get_run(first)
    assert run.status == RunStatus.FAILED and "no such interpreter" in run.error
    assert "OSError" in run.traceback
    assert _status(store, second) == RunStatus.RUNNING


def test_resume_needs_an_interrupted_or_cancelled_run_with_a_checkpoint(store, fake, runner):
    run_id = _queue(store)[0]
    with pytest.raises(RnnlabError, match="is queued; only interrupted or cancelled"):
        jobs.resume(store, run_id)
    runner.tick()
    store.add_epoch(run_id, 1, train_loss=0.5)
    fake.finish(run_id, status=None, returncode=-9)
    runner.tick()
    with pytest.raises(CheckpointError, match="no readable checkpoint"):
        jobs.resume(store, run_id)
    _write_checkpoint(store, run_id, 1)
    assert jobs.resume(store, run_id) == 1
    run = store.get_run(run_id)
    assert run.status == RunStatus.QUEUED and run.summary["resume"] is True
    assert run.finished_at is None and not run.cancel_requested
    runner.tick()
    assert fake.started[-1] == (run_id, True)


def test_a_run_cancelled_before_any_epoch_resumes_from_the_start(store, fake, runner):
    run_id = _queue(store)[0]
    jobs.cancel(store, run_id)
    assert jobs.resume(store, run_id) == 0
    runner.tick()
    assert fake.started == [(run_id, False)]


def test_checkpoint_epoch_reads_the_json_beside_the_model(store):
    run_id = _queue(store)[0]
    assert jobs.checkpoint_epoch(store, run_id) is None
    _write_checkpoint(store, run_id, 4)
    assert jobs.checkpoint_epoch(store, run_id) == 4
    store.artefact(run_id, "checkpoint.json").write_text("{broken")
    assert jobs.checkpoint_epoch(store, run_id) is None


def test_delete_cancels_a_queued_run_and_refuses_a_running_one(store, fake):
    runner = Runner(store, concurrency=1, executor=fake)
    running, queued = _queue(store, 2)
    runner.tick()
    jobs.delete(store, queued)
    assert [r.id for r in store.list_runs()] == [running]
    assert not store.run_dir(queued).exists()
    with pytest.raises(RnnlabError, match="still running"):
        jobs.delete(store, running)
    runner.stop()


def test_only_one_runner_per_home_is_active(store, fake):
    first = Runner(store, concurrency=1, executor=fake)
    other = FakeExecutor()
    second = Runner(Store(store.home), concurrency=1, executor=other)
    run_id = _queue(store)[0]
    assert first.tick() == [run_id] and first.active
    fake.finish(run_id)
    nxt = _queue(store)[0]
    assert second.tick() == [] and not second.active
    first.stop()
    assert second.tick() == [nxt] and second.active
    second.stop()


def test_wait_idle_returns_when_the_queue_drains(store):
    runner = Runner(store, concurrency=2, executor=FakeExecutor(finish_at_once=RunStatus.DONE),
                    tick_seconds=0.05).start()
    ids = _queue(store, 4)
    assert runner.wait_idle(timeout=10)
    assert all(_status(store, rid) == RunStatus.DONE for rid in ids)
    runner.stop()


def test_wait_idle_without_a_thread_ticks_itself_and_times_out(store, fake):
    runner = Runner(store, concurrency=1, executor=fake, tick_seconds=0.05)
    run_id = _queue(store)[0]
    t0 = time.monotonic()
    assert runner.wait_idle(timeout=0.3) is False
    assert time.monotonic() - t0 < 5
    assert _status(store, run_id) == RunStatus.RUNNING
    fake.finish(run_id)
    assert runner.wait_idle(timeout=5)
    runner.stop()


def test_run_forever_until_idle(store):
    runner = Runner(store, concurrency=1, executor=FakeExecutor(finish_at_once=RunStatus.DONE),
                    tick_seconds=0.01)
    _queue(store, 3)
    done = threading.Event()
    threading.Thread(target=lambda: (runner.run_forever(until_idle=True), done.set()),
                     daemon=True).start()
    assert done.wait(10)
    assert store.count_by_status() == {RunStatus.DONE: 3}
    runner.stop()


def test_concurrency_and_executor_settings(store, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert jobs.default_concurrency() == 4
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert jobs.default_concurrency() == 1
    monkeypatch.setenv("RNNLAB_CONCURRENCY", "3")
    assert jobs.default_concurrency() == 3
    monkeypatch.setenv("RNNLAB_CONCURRENCY", "zero")
    with pytest.raises(ConfigError, match="RNNLAB_CONCURRENCY must be a whole number"):
        jobs.default_concurrency()
    with pytest.raises(ConfigError, match="concurrency must be a whole number >= 1"):
        Runner(store, concurrency=0)
    assert isinstance(jobs.make_executor(), jobs.LocalProcessExecutor)
    monkeypatch.setenv("RNNLAB_EXECUTOR", "inprocess")
    assert isinstance(jobs.make_executor(), jobs.InProcessExecutor)
    with pytest.raises(ConfigError, match="RNNLAB_EXECUTOR must be one of process, inprocess"):
        jobs.make_executor("slurm")


def test_get_runner_is_one_per_home(store, tmp_path):
    a = jobs.get_runner(store, start=False)
    assert jobs.get_runner(Store(store.home), start=False) is a
    assert jobs.get_runner(Store(tmp_path / "other"), start=False) is not a


def test_worker_command_and_thread_share(store):
    executor = jobs.LocalProcessExecutor(python="/py")
    cmd = executor.command(store, "r20260101-000000-abcdef", resume=True)
    assert cmd == ["/py", "-m", "rnnlab.worker", "r20260101-000000-abcdef",
                   "--home", str(store.home.resolve()), "--resume"]
    assert Runner(store, concurrency=2).threads_per_worker == max(1, (os.cpu_count() or 1) // 2)


def test_pid_alive_sees_dead_and_zombie_processes():
    assert jobs.pid_alive(os.getpid())
    assert not jobs.pid_alive(_dead_pid())
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while jobs.pid_alive(zombie.pid) and time.monotonic() < deadline:
        time.sleep(0.02)  # the child exits; unreaped, it is a zombie
    assert not jobs.pid_alive(zombie.pid)
    zombie.wait()


def test_the_job_modules_do_not_import_tensorflow():
    code = ("import sys, rnnlab.jobs, rnnlab.worker, rnnlab.cli; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _write_checkpoint(store, run_id, epoch):
    store.artefact(run_id, "checkpoint.keras").write_bytes(b"weights")
    store.artefact(run_id, "checkpoint.json").write_text(f'{{"epoch": {epoch}}}')


def test_a_store_that_cannot_be_written_is_said_once_and_retried(store, fake, capsys, monkeypatch):
    """A full disk does not kill the runner nor fill its log with tracebacks."""
    from rnnlab.store import StoreFull

    runner = Runner(store, concurrency=1, executor=fake, tick_seconds=0.01)
    run_id = _queue(store)[0]
    full = StoreFull("The disk is full: the run store at /x could not be written.")
    calls = {"n": 0}

    def tick():
        calls["n"] += 1
        if calls["n"] <= 3:
            raise full
        runner._stopping.set()
        return Runner.tick(runner)

    monkeypatch.setattr(runner, "tick", tick)
    runner.run_forever()
    err = capsys.readouterr().err
    assert calls["n"] == 4
    assert err.count("rnnlab runner: The disk is full") == 1 and "Traceback" not in err
    assert "the run store can be written again" in err
    assert fake.started == [(run_id, False)]
    runner.stop()


def test_a_submitted_run_starts_at_once_not_at_the_next_tick(store, fake):
    runner = Runner(store, concurrency=1, executor=fake, tick_seconds=3600).start()
    try:
        deadline = time.monotonic() + 30
        while not runner.active and time.monotonic() < deadline:  # its first tick has run
            time.sleep(0.01)
        assert runner.active
        run_id = _queue(store)[0]
        deadline = time.monotonic() + 30
        while not fake.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [rid for rid, _ in fake.started] == [run_id]
    finally:
        runner.stop()


def test_the_worker_takes_a_run_id_or_standby_not_both(capsys):
    from rnnlab import worker

    for argv in ([], ["--standby", "r20260101-000000-abcdef"]):
        with pytest.raises(SystemExit) as exc:
            worker.main(argv)
        assert exc.value.code == 2
        assert "either a run id or --standby" in capsys.readouterr().err


def test_an_executor_of_ones_own_by_module_and_class(monkeypatch):
    assert isinstance(jobs.make_executor("rnnlab.jobs:InProcessExecutor"), jobs.InProcessExecutor)
    monkeypatch.setenv("RNNLAB_EXECUTOR", "rnnlab.jobs:InProcessExecutor")
    assert isinstance(jobs.make_executor(), jobs.InProcessExecutor)
    with pytest.raises(ConfigError, match="the module 'no_such_mod' cannot be imported"):
        jobs.make_executor("no_such_mod:Thing")
    with pytest.raises(ConfigError, match="has no Executor subclass called 'Store'"):
        jobs.make_executor("rnnlab.store:Store")
    with pytest.raises(ConfigError, match="or package.module:Class"):
        jobs.make_executor("slurm")

"""Runs on a Ray cluster (RNNLAB_EXECUTOR=ray): a head and two worker nodes on this machine.

The cluster is started by the module's fixture with `ray start --block` (one head with no CPU of
its own, two worker nodes of one CPU each) and torn down by killing exactly the processes it
started. The worker nodes run with another HOME and an audit hook (a sitecustomize.py on their
PYTHONPATH) that refuses, and records, any open of a file under this test session's temporary
folder, where every test's RNNLAB_HOME lives, and every sqlite3.connect: the workers train with
the store on the head, which only the store service opens.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")

from rnnlab import jobs  # noqa: E402
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402
from rnnlab.jobs.runner import Runner  # noqa: E402
from rnnlab.store import RunStatus, Store  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.ray]

ROOT = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).with_name("ray"))
WAIT = 150
HOOK = textwrap.dedent('''
    import os, sys

    _FORBIDDEN = os.environ.get("RNNLAB_TEST_FORBIDDEN")
    _LOG = os.environ.get("RNNLAB_TEST_AUDIT_LOG")

    def _note(text):
        with open(_LOG, "a") as handle:
            handle.write(f"{os.getpid()} {text}\\n")

    def _hook(event, args):
        if event == "sqlite3.connect":
            _note(f"sqlite3.connect {args[0]!r}")
            raise PermissionError("this worker node may not open SQLite files")
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.path.abspath(os.fsdecode(args[0]))
            if path.startswith(_FORBIDDEN):
                _note(f"open {path}")
                raise PermissionError(f"this worker node may not open {path}")

    if _FORBIDDEN and _LOG:
        sys.addaudithook(_hook)
''')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _our_pids(marker: str) -> list[int]:
    """The processes whose environment carries this cluster's marker (all its Ray processes)."""
    pids = []
    needle = f"RNNLAB_TEST_CLUSTER={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


class Cluster:
    """A head and worker nodes started with `ray start --block` on this machine (Ray turns
    127.0.0.1 into the machine's own address)."""

    def __init__(self, forbidden: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="rr", dir="/tmp"))   # Ray's socket paths are short
        self.marker = self.dir.name
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        self.audit_log = self.dir / "audit.log"
        hook_dir = self.dir / "hook"
        hook_dir.mkdir()
        (hook_dir / "sitecustomize.py").write_text(HOOK)
        self.env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.token,
                    "RAY_USAGE_STATS_ENABLED": "0", "RNNLAB_TEST_CLUSTER": self.marker}
        self.procs: list[subprocess.Popen] = []
        self.worker_home = self.dir / "worker-home"
        self.worker_home.mkdir()
        self.forbidden = str(forbidden.resolve())
        self.hook_dir = hook_dir

    def _ray_start(self, args: list[str], env: dict, name: str, attempts: int = 3) -> None:
        """`ray start --block ARGS`, waiting until it says the node runs; again when it gives
        up (a raylet has 30 s to register, which a busy two-core machine can miss)."""
        for _ in range(attempts):
            log_path = self.dir / f"{name}.log"
            start = log_path.stat().st_size if log_path.exists() else 0
            with open(log_path, "ab") as log:
                proc = subprocess.Popen([RAY, "start", "--block", *args], env=env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
            self.procs.append(proc)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                with open(log_path, "rb") as log:
                    log.seek(start)
                    if b"Ray runtime started" in log.read():
                        return
                time.sleep(0.3)
            try:
                os.killpg(proc.pid, signal.SIGKILL)   # it and the processes it started
            except OSError:
                pass
            proc.wait()
        raise RuntimeError(f"`ray start {' '.join(args)}` failed {attempts} times:\n"
                           + self.logs())

    def start(self, workers: int = 2) -> None:
        self._ray_start(["--head", f"--port={self.port}", "--num-cpus=0",
                         "--include-dashboard=false",
                         "--disable-usage-stats", f"--temp-dir={self.dir / 'ray'}"],
                        self.env, "head")
        for i in range(workers):     # one after the other: a raylet's start is CPU-heavy
            scratch = self.dir / f"scratch-{i}"
            env = {**self.env, "HOME": str(self.worker_home),
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(self.hook_dir),
                                                               self.env.get("PYTHONPATH")])),
                   "RNNLAB_TEST_FORBIDDEN": self.forbidden,
                   "RNNLAB_TEST_AUDIT_LOG": str(self.audit_log),
                   "RNNLAB_RAY_SCRATCH": str(scratch)}
            env.pop("RNNLAB_HOME", None)
            self._ray_start([f"--address={self.address}", "--num-cpus=1",
                             "--disable-usage-stats",
                             f"--temp-dir={self.dir / 'ray'}"], env, f"worker-{i}")

    def logs(self) -> str:
        return "\n".join(f"{p.name}: {p.read_text(errors='replace')[-600:]}"
                         for p in sorted(self.dir.glob("*.log")))

    def stop(self) -> None:
        """End every process of this cluster: `ray start --block` first, then what is left."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for pid in _our_pids(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def violations(self) -> list[str]:
        return self.audit_log.read_text().splitlines() if self.audit_log.exists() else []


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import ray

    forbidden = tmp_path_factory.getbasetemp()      # every test's RNNLAB_HOME is under it
    cluster = Cluster(forbidden)
    patch = pytest.MonkeyPatch()
    try:
        cluster.start()
        for key in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_USAGE_STATS_ENABLED"):
            patch.setenv(key, cluster.env[key])
        _reset_ray_auth()                 # Ray read RAY_AUTH_* when it was imported
        patch.setenv("RNNLAB_RAY_ADDRESS", cluster.address)
        patch.setenv("RNNLAB_CLASSICAL", "0")
        from rnnlab.jobs.ray_cluster import connect

        connect()
        deadline = time.monotonic() + 120
        while sum(1 for n in ray.nodes() if n["Alive"]) < 3:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker nodes did not join: {ray.nodes()}\n"
                                   + cluster.logs())
            time.sleep(0.5)
        yield cluster
    finally:
        try:
            ray.shutdown()
        finally:
            patch.undo()
            _reset_ray_auth()
            cluster.stop()


def _reset_ray_auth() -> None:
    """Make Ray read RAY_AUTH_MODE and RAY_AUTH_TOKEN again (Ray versions with token auth)."""
    try:
        from ray._raylet import AuthenticationTokenLoader, Config
    except ImportError:
        return
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


class OneThreadRunner(Runner):
    threads_per_worker = 1      # one CPU per run, whatever this machine's cores


def tiny(epochs: int = 2, *, source: str = "noisy_sine.csv", name: str = "",
         units: int = 4) -> RunConfig:
    return RunConfig(data=DataConfig(source=source, target="value"),
                     model=ModelConfig(cell="lstm", n_layers=1, units=units, lookback=5),
                     train=TrainConfig(epochs=epochs, batch_size=32, seed=1), name=name)


def wait_for(predicate, timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _runner(store: Store, concurrency: int = 2) -> Runner:
    from rnnlab.jobs.ray_cluster import RayExecutor

    return OneThreadRunner(store, concurrency=concurrency, executor=RayExecutor(),
                           tick_seconds=0.2)


@pytest.fixture(scope="module")
def six_runs(cluster, tmp_path_factory):
    """Six tiny runs trained on the cluster, two at a time, one of them on an uploaded file
    (which reaches the workers by its hash): (store, run ids, seconds it took)."""
    home = tmp_path_factory.mktemp("six") / "home"
    store = Store(home)
    upload = home / "uploads" / "0123456789abcdef" / "my_series.csv"
    upload.parent.mkdir(parents=True)
    shutil.copyfile(ROOT / "rnnlab" / "sample_data" / "noisy_sine.csv", upload)
    configs = [tiny(2, name=f"remote {i}", units=3 + i) for i in range(5)]
    configs.append(tiny(1, source=str(upload), name="remote upload"))
    ids = [jobs.submit(store, cfg, check_data=False, reuse=False) for cfg in configs]
    runner = _runner(store)
    started = time.monotonic()
    try:
        assert runner.wait_idle(WAIT), [(r.name, r.status) for r in store.list_runs()]
    finally:
        runner.stop()
    return store, ids, time.monotonic() - started


def test_the_worker_nodes_cannot_open_the_run_store(cluster, store):
    import ray

    @ray.remote(num_cpus=1)
    def probe(path: str) -> tuple[str, str]:
        import os as _os
        import sqlite3

        try:
            open(path, "rb").close()
            opened = "opened"
        except PermissionError:
            opened = "refused"
        try:
            sqlite3.connect(path)
            connected = "connected"
        except PermissionError:
            connected = "refused"
        return _os.environ.get("HOME", ""), f"{opened} {connected}"

    path = str(store.home / "rnnlab.sqlite")
    assert Path(path).is_file()
    answers = ray.get([probe.remote(path) for _ in range(4)], timeout=60)
    assert {a for a in answers} == {(str(cluster.worker_home), "refused refused")}
    cluster.audit_log.unlink(missing_ok=True)   # the probe's own refusals


def test_six_runs_on_the_cluster_finish_done_with_every_epoch(six_runs, cluster):
    store, ids, seconds = six_runs
    print(f"6 runs on 2 worker nodes: {seconds:.1f} s")
    for run_id in ids:
        run = store.get_run(run_id)
        assert run.status == RunStatus.DONE, (run.error, run.traceback)
        assert run.worker.startswith("ray:")
        want = run.epochs_total
        assert store.curves(run_id, ("epoch",))["epoch"] == list(range(1, want + 1))
        assert run.epochs_done == want
        files = {p.name for p in store.run_dir(run_id).iterdir()}
        assert {"config.json", "predictions.csv", "forecast.csv", "model.keras", "log.txt",
                "checkpoint.keras", "checkpoint.json"} <= files
        assert "(Ray)" in store.artefact(run_id, "log.txt").read_text()
        assert run.summary["metrics"]["test"]
    upload = store.get_run(ids[-1])
    assert upload.summary["data_source"].endswith("my_series.csv")   # the head's path, kept
    assert upload.summary["data_source"] == upload.config["data"]["source"]
    assert cluster.violations() == []


def test_a_cancelled_remote_run_ends_cancelled_and_a_new_runner_finds_its_worker(cluster, store):
    from rnnlab.jobs.ray_cluster import actor_state

    run_id = jobs.submit(store, tiny(200, units=8), check_data=False, reuse=False)
    first = _runner(store, concurrency=1)
    first.start()
    wait_for(lambda: store.get_run(run_id).epochs_done >= 1, WAIT, "the first epoch")
    first.stop()                          # the runner goes; its worker goes on
    handle = store.get_run(run_id).worker
    assert actor_state(handle[len("ray:"):]) == "ALIVE"
    second = _runner(store, concurrency=1)
    try:
        for _ in range(3):
            second.tick()
        assert store.get_run(run_id).status == RunStatus.RUNNING   # found again, left running
        jobs.cancel(store, run_id)
        wait_for(lambda: second.tick() is not None and store.get_run(run_id).status.finished,
                 60, "the cancel")
    finally:
        second.stop()
    run = store.get_run(run_id)
    assert run.status == RunStatus.CANCELLED, run.summary
    assert 1 <= run.epochs_done < 200
    wait_for(lambda: actor_state(handle[len("ray:"):]) == "DEAD", 30, "the worker actor's end")
    assert cluster.violations() == []


def test_a_killed_worker_leaves_the_run_interrupted_and_resume_finishes_it(cluster, store):
    import ray

    run_id = jobs.submit(store, tiny(40, units=8), check_data=False, reuse=False)
    runner = _runner(store, concurrency=1)
    runner.start()
    try:
        wait_for(lambda: store.get_run(run_id).epochs_done >= 2, WAIT, "two epochs")
        remote = runner.executor._runs[run_id]
        pid = ray.get(remote.actor.pid.remote(), timeout=30)
        node_of = {n["NodeID"]: n for n in ray.nodes()}
        assert node_of                    # the worker runs on one of the worker nodes
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: store.get_run(run_id).status == RunStatus.INTERRUPTED, 60,
                 "the run to be marked interrupted")
        run = store.get_run(run_id)
        assert "killed" in run.summary["message"] and "Resume" in run.summary["message"]
        checkpoint = jobs.resume(store, run_id)
        assert checkpoint >= 1            # the head has a checkpoint the worker sent
        runner.wake()
        wait_for(lambda: store.get_run(run_id).status.finished, WAIT, "the resumed run")
    finally:
        runner.stop()
    run = store.get_run(run_id)
    assert run.status == RunStatus.DONE, (run.error, run.traceback)
    assert store.curves(run_id, ("epoch",))["epoch"] == list(range(1, 41))
    kinds = [e["kind"] for e in store.events(run_id)]
    assert "interrupted" in kinds and "resumed" in kinds
    assert cluster.violations() == []


def test_the_pages_show_a_remote_run_as_they_show_a_local_one(six_runs, monkeypatch):
    sys.path.insert(0, str(ROOT / "tests" / "app"))
    from apphelpers import open_page, plotly_specs

    store, ids, _ = six_runs
    from rnnlab.jobs.executors import InProcessExecutor

    local_id = jobs.submit(store, tiny(2, name="local"), check_data=False, reuse=False)
    local = OneThreadRunner(store, concurrency=1, executor=InProcessExecutor())
    try:
        assert local.wait_idle(WAIT)
    finally:
        local.stop()
    assert store.get_run(local_id).status == RunStatus.DONE
    monkeypatch.setenv("RNNLAB_HOME", str(store.home))
    monkeypatch.setenv("RNNLAB_EXECUTOR", "inprocess")
    monkeypatch.setenv("RNNLAB_DEBUG", "1")

    def results(run_id):
        at = open_page("views/results.py", {"run": run_id})
        assert not at.exception, [e.value for e in at.exception]
        buttons = [(b.proto.label, b.proto.disabled) for b in at.get("download_button")]
        return sorted(plotly_specs(at)), buttons, [e.value for e in at.error]

    remote_page, local_page = results(ids[0]), results(local_id)
    assert remote_page == local_page
    assert "results_pred_chart" in remote_page[0] and remote_page[1]
    assert all(not disabled for _, disabled in remote_page[1])
    at = open_page("views/train.py")
    assert not at.exception, [e.value for e in at.exception]
    keys = {b.key for b in at.button}
    assert f"runs_delete_{ids[0]}" in keys and f"runs_delete_{local_id}" in keys
    from rnnlab import jobs as _jobs

    _jobs.get_runner(Store(store.home), start=False).stop()

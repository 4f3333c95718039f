"""Runs on a Ray cluster: `RNNLAB_EXECUTOR=ray`, the store on the head as the one place of record.

`RayExecutor` starts each run's worker as a Ray actor on any node of the cluster
(`RNNLAB_RAY_ADDRESS`, e.g. `10.0.0.5:6379`; by default a local Ray instance, joined when one
runs on this machine, else started). The actor reserves `threads` CPUs (and `RNNLAB_RAY_GPUS`
of a GPU when set) and runs the same worker code as a local process (`rnnlab.worker`), with a
`StoreClient` in place of the `Store`: the worker never opens the SQLite file or the run store's
folder; its rows and files reach the head through a `StoreService` actor placed on this machine
(`rnnlab.jobs.store_service`).

Handles are "ray:" and the actor's id. The actors are detached and named (namespace "rnnlab"):
they outlive the runner that started them, and a restarted runner finds them through the handle
in the store (`alive` reads the actor's state from the cluster). A worker that dies (its process
killed, its node lost) ends its actor: the runner marks the run interrupted, resumable from the
last checkpoint it sent to the head. `stop` kills the actor.

Importing this module does not import Ray; nothing here runs in the web process until a runner
starts a run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.artefacts import LOG
from rnnlab.errors import ConfigError
from rnnlab.jobs.executors import Executor, WorkerEnd, WorkerHandle, log_tail
from rnnlab.store import RunStatus, Store

NAMESPACE = "rnnlab"
HANDLE_PREFIX = "ray:"
ADDRESS_ENV = "RNNLAB_RAY_ADDRESS"    # a cluster's address; default: a local Ray instance
SCRATCH_ENV = "RNNLAB_RAY_SCRATCH"    # a worker node's folder for runs' files and its data cache
GPUS_ENV = "RNNLAB_RAY_GPUS"          # the share of a GPU each run reserves (e.g. 0.25)
CACHE_ENV = "RNNLAB_RAY_CACHE_MB"     # a worker node's data cache is kept under this (MB)
CACHE_MB = 2048
START_GRACE_ENV = "RNNLAB_RAY_START_GRACE"
START_GRACE = 120.0    # seconds the executor vouches for a run whose actor is still starting
SELF_EXIT_AFTER = 5.0  # seconds a finished worker actor waits for the runner, then ends itself
LIVE_STATES = ("DEPENDENCIES_UNREADY", "PENDING_CREATION", "ALIVE", "RESTARTING")
KILLED = -9            # the exit code reported for a worker whose process or node died
THREAD_VARS = ("RNNLAB_TF_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
               "OMP_NUM_THREADS")
# The runner's settings a remote worker follows, unless its node sets them itself.
FORWARDED = ("RNNLAB_BACKEND", "RNNLAB_THREADS", "RNNLAB_TF_THREADS", "RNNLAB_FAST_KERNELS",
             "RNNLAB_JIT", "RNNLAB_HUNG_AFTER", "RNNLAB_CLASSICAL", "RNNLAB_GPU_MEMORY_FRACTION",
             "TF_CPP_MIN_LOG_LEVEL")


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def connect():
    """Ray, connected: to RNNLAB_RAY_ADDRESS, else to the local instance (started if none)."""
    import ray

    if not ray.is_initialized():
        address = os.environ.get(ADDRESS_ENV, "").strip() or None
        options: dict[str, Any] = {"namespace": NAMESPACE, "log_to_driver": False,
                                   "ignore_reinit_error": True}
        if address is None:
            options["include_dashboard"] = False
        ray.init(address=address, **options)
    return ray


def home_key(home: Path) -> str:
    """A short name for a home folder: the actors of one home's runs carry it."""
    return hashlib.sha256(str(Path(home).resolve()).encode()).hexdigest()[:12]


def worker_name(home: Path, run_id: str) -> str:
    """A run's worker actor name (a new one for each start of the run)."""
    return f"rnnlab-run-{home_key(home)}-{run_id}-{secrets.token_hex(3)}"


def store_service(home: Path):
    """The home's store service actor: found by name, or started on this machine (the head,
    where the home is), with no CPU of its own, detached so that it outlives the runner."""
    ray = connect()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from rnnlab.jobs.store_service import StoreService

    node = ray.get_runtime_context().get_node_id()
    actor = ray.remote(StoreService).options(
        name=f"rnnlab-store-{home_key(home)}", namespace=NAMESPACE, get_if_exists=True,
        lifetime="detached", num_cpus=0, max_concurrency=32, max_restarts=-1,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
    ).remote(str(Path(home).resolve()))
    ray.get(actor.ping.remote(), timeout=120)
    return actor


def actor_state(actor_hex: str) -> str | None:
    """The cluster's state of an actor ("ALIVE", "DEAD", ...); "UNKNOWN" when the cluster has
    no such actor; None when the cluster cannot be asked."""
    try:
        ray = connect()
        info = ray._private.state.actors(actor_id=actor_hex)
    except Exception:
        return None
    return str(info.get("State", "UNKNOWN")) if info else "UNKNOWN"


@dataclass
class _Remote:
    actor: Any
    ref: Any
    handle: WorkerHandle
    store: Store
    started: float = field(default_factory=time.monotonic)


class RayExecutor(Executor):
    """Each run's worker as a Ray actor somewhere on the cluster; see the module's doc."""

    name = "ray"

    def __init__(self):
        if not ray_installed():
            raise ConfigError("RNNLAB_EXECUTOR=ray needs Ray, which is not installed here. "
                              "Install it with: pip install 'rnnlab[ray]'")
        self._runs: dict[str, _Remote] = {}
        self._services: dict[str, Any] = {}
        self._shas: dict[tuple[str, int, int], str] = {}
        self._threads = 1
        self._capacity: tuple[float, int | None] = (0.0, None)
        self._lock = threading.RLock()
        try:
            self.start_grace = float(os.environ.get(START_GRACE_ENV, START_GRACE))
        except ValueError:
            raise ConfigError(f"{START_GRACE_ENV} must be a number of seconds.") from None

    # -- starting
    def start(self, store: Store, run_id: str, *, resume: bool,
              threads: int | None = None) -> WorkerHandle:
        """Start the run's worker actor (threads CPUs); its handle, "ray:" and the actor id."""
        connect()
        self._threads = max(1, threads or 1)
        service = self._service(store)
        run = store.get_run(run_id)
        shared = self._share(store, run.config, service)
        options: dict[str, Any] = {
            "name": worker_name(store.home, run_id), "namespace": NAMESPACE,
            "lifetime": "detached", "num_cpus": self._threads, "max_restarts": 0,
            "max_task_retries": 0, "max_concurrency": 2}
        gpus = os.environ.get(GPUS_ENV, "").strip()
        if gpus:
            try:
                options["num_gpus"] = float(gpus)
            except ValueError:
                raise ConfigError(f"{GPUS_ENV} must be a share of a GPU such as 0.25. "
                                  f"Received: {gpus!r}") from None
        actor = _worker_class().options(**options).remote(forwarded_env(self._threads))
        ref = actor.run.remote(service, run_id, resume, shared)
        handle = WorkerHandle(HANDLE_PREFIX + actor._actor_id.hex())
        with self._lock:
            self._runs[run_id] = _Remote(actor, ref, handle, store)
        return handle

    def _service(self, store: Store):
        key = home_key(store.home)
        with self._lock:
            service = self._services.get(key)
        if service is None:
            service = store_service(store.home)
            with self._lock:
                self._services[key] = service
        return service

    def _share(self, store: Store, config: dict, service) -> dict[str, tuple]:
        """What the worker needs to find the run's files on its node: source -> ("sample",
        name) for the package's samples, ("data", sha256, file name) for any other file (the
        head shares it by its hash), and the kept model of a run that brings one back."""
        import ray

        from rnnlab import samples

        shared: dict[str, tuple] = {}
        data = config.get("data") or {}
        for key in ("source", "test_source"):
            source = data.get(key)
            if not source or samples._lookup(source) is not None:
                continue           # a sample's name: every install has it
            path = Path(source).expanduser()
            sample = samples.sample_for(path)
            if sample is not None:
                shared[source] = ("sample", sample.file)
            elif path.is_file():
                sha = self._sha(path)
                ray.get(service.register_data.remote(sha, str(path.resolve())))
                shared[source] = ("data", sha, path.name)
        bundle = (config.get("from_model") or {}).get("bundle")
        if bundle:
            from rnnlab.comeback.keep import kept_path

            path = kept_path(store, bundle)
            if path.is_file():
                sha = self._sha(path)
                ray.get(service.register_data.remote(sha, str(path.resolve())))
                shared[f"model:{bundle}"] = ("model", sha, bundle)
        return shared

    def _sha(self, path: Path) -> str:
        from rnnlab.jobs.store_service import sha256_of

        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if key not in self._shas:
            self._shas[key] = sha256_of(path)
        return self._shas[key]

    # -- watching
    def reap(self) -> list[WorkerEnd]:
        """Workers whose run call returned (its exit code) or whose actor died (KILLED)."""
        with self._lock:
            runs = dict(self._runs)
        if not runs:
            return []
        ray = connect()
        refs = {r.ref: run_id for run_id, r in runs.items()}
        ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=0)
        ended = []
        for ref in ready:
            run_id = refs[ref]
            remote = runs[run_id]
            try:
                code = int(ray.get(ref, timeout=5))
            except Exception as exc:   # the actor died: its process was killed, its node lost
                code = KILLED if _actor_died(exc) else 1
            with self._lock:
                self._runs.pop(run_id, None)
            _kill(remote.actor)
            ended.append(WorkerEnd(run_id, code, _log_tail(remote.store, run_id)))
        self._vouch(runs, set(refs[r] for r in ready))
        return ended

    def _vouch(self, runs: dict[str, _Remote], ended: set[str]) -> None:
        """Beat for runs whose actor is still being placed or started (up to start_grace
        seconds): the worker beats itself once it runs."""
        for run_id, remote in runs.items():
            if run_id in ended or time.monotonic() - remote.started > self.start_grace:
                continue
            try:
                run = remote.store.get_run(run_id)
                if run.status == RunStatus.RUNNING and run.epochs_done == 0 and \
                        (run.heartbeat_at or 0) < time.time() - 2:
                    remote.store.heartbeat(run_id)
            except Exception:
                pass

    def owns(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._runs

    def alive(self, handle: WorkerHandle | str | None) -> bool:
        """A "ray:" handle: its actor is not dead (True when the cluster cannot be asked; the
        stale heartbeat catches it); any other handle as `Executor.alive` says."""
        text = str(handle or "")
        if not text.startswith(HANDLE_PREFIX):
            return super().alive(handle)
        state = actor_state(text[len(HANDLE_PREFIX):])
        return state is None or state in LIVE_STATES

    def stop(self, handle: WorkerHandle | str | None, run_id: str) -> None:
        """Kill the worker actor the handle names, when it is this run's."""
        text = str(handle or "")
        if not text.startswith(HANDLE_PREFIX):
            return
        with self._lock:
            remote = self._runs.get(run_id)
        if remote is not None and remote.handle == text:
            _kill(remote.actor)
            return
        actor = _find_actor(run_id, text[len(HANDLE_PREFIX):])
        if actor is not None:
            _kill(actor)

    def capacity(self) -> int | None:
        """The cluster's CPUs over the CPUs of one run (looked up at most every 2 s)."""
        at, value = self._capacity
        if time.monotonic() - at < 2.0:
            return value
        try:
            cpus = float(connect().cluster_resources().get("CPU", 0))
            value = int(cpus // self._threads)
        except Exception:
            value = None
        self._capacity = (time.monotonic(), value)
        return value

    def warm(self, store: Store, threads: int | None = None) -> None:
        self._threads = max(1, threads or 1)

    def close(self) -> None:
        """Forget the actors; they are detached and finish their runs."""
        with self._lock:
            self._runs.clear()
            self._services.clear()


def forwarded_env(threads: int | None) -> dict[str, str]:
    """The runner's settings for a remote worker: FORWARDED variables that are set, and the
    thread limits for its CPUs."""
    env = {k: os.environ[k] for k in FORWARDED if k in os.environ}
    if threads:
        for var in THREAD_VARS:
            env.setdefault(var, str(threads))
    return env


def _actor_died(exc: BaseException) -> bool:
    from ray import exceptions

    return isinstance(exc, (exceptions.RayActorError, exceptions.WorkerCrashedError,
                            exceptions.NodeDiedError, exceptions.OwnerDiedError))


def _kill(actor) -> None:
    try:
        import ray

        ray.kill(actor, no_restart=True)
    except Exception:
        pass


def _find_actor(run_id: str, actor_hex: str):
    """The live named worker actor of run_id with this id, or None."""
    try:
        ray = connect()
        for entry in ray.util.list_named_actors(all_namespaces=True):
            name = entry.get("name", "")
            if entry.get("namespace") != NAMESPACE or not name.startswith("rnnlab-run-") \
                    or f"-{run_id}-" not in name:
                continue
            actor = ray.get_actor(entry["name"], namespace=NAMESPACE)
            if actor._actor_id.hex() == actor_hex:
                return actor
    except Exception:
        return None
    return None


def _log_tail(store: Store, run_id: str) -> str:
    try:
        return log_tail(store.artefact(run_id, LOG))
    except Exception:
        return ""


# -- the remote side ------------------------------------------------------------------------------
class RunWorker:
    """One run's worker on a node of the cluster (a Ray actor: `_worker_class`)."""

    def __init__(self, env: dict[str, str]):
        for key, value in env.items():       # before Keras loads; the node's own settings win
            os.environ.setdefault(key, value)
        os.environ.setdefault("PYTHONUNBUFFERED", "1")

    def pid(self) -> int:
        return os.getpid()

    def run(self, service, run_id: str, resume: bool, shared: dict[str, tuple]) -> int:
        """Run the run (see `run_remote`); then end this actor a moment later."""
        try:
            return run_remote(service, run_id, resume=resume, shared=shared)
        finally:
            threading.Thread(target=_end_self, daemon=True).start()


def _end_self() -> None:
    time.sleep(SELF_EXIT_AFTER)
    try:
        import ray

        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
    except Exception:
        os._exit(0)


_WORKER_CLASS = None


def _worker_class():
    global _WORKER_CLASS
    if _WORKER_CLASS is None:
        import ray

        _WORKER_CLASS = ray.remote(RunWorker)
    return _WORKER_CLASS


def scratch_root() -> Path:
    """This node's folder for runs' files and cached data (RNNLAB_RAY_SCRATCH, else the
    temporary folder)."""
    raw = os.environ.get(SCRATCH_ENV, "").strip()
    return Path(raw).expanduser() if raw else Path(tempfile.gettempdir()) / "rnnlab-ray"


def cache_bytes() -> int:
    """RNNLAB_RAY_CACHE_MB (default CACHE_MB) in bytes: the most a node's data cache keeps."""
    try:
        return int(float(os.environ.get(CACHE_ENV, CACHE_MB)) * 2 ** 20)
    except ValueError:
        return CACHE_MB * 2 ** 20


def ray_call(service):
    """The StoreClient transport: a method of the service actor, waited for."""
    import ray

    def call(method: str, *args, **kwargs):
        return ray.get(getattr(service, method).remote(*args, **kwargs))

    return call


def run_remote(service, run_id: str, *, resume: bool, shared: dict[str, tuple],
               call=None, scratch: Path | None = None) -> int:
    """One run on this node, the store on the head: the worker's exit code (as
    `python -m rnnlab.worker` would return it).

    The run's files come from the head first (a checkpoint to resume from), its output goes to
    log.txt there, its data is fetched by hash into this node's cache, and its folder here is
    removed once everything is on the head.
    """
    from rnnlab import backend, samples, worker
    from rnnlab.jobs.store_service import StoreClient, prune_cache

    root = scratch or scratch_root()
    client = StoreClient(call or ray_call(service), root)
    client.forget(run_id)               # what an earlier attempt left on this node
    try:
        client.pull_files(run_id)
        worker._output_to(str(client.artefact(run_id, LOG)))
        node = os.uname().nodename if hasattr(os, "uname") else "?"
        print(f"Worker on {node}, pid {os.getpid()} (Ray).", flush=True)
        prune_cache(root / "data", cache_bytes())
        for source, spec in shared.items():
            if spec[0] == "sample":
                samples.LOCAL_COPIES[source] = samples.sample_path(spec[1])
            elif spec[0] == "data":
                samples.LOCAL_COPIES[source] = client.fetch_data(spec[1], spec[2])
            elif spec[0] == "model":
                _place_model(client, spec[1], spec[2])
        backend.cache_compiled(root / worker.COMPILE_CACHE)
    except BaseException:
        worker._say(traceback.format_exc())
        _push_quietly(client, run_id)
        return 1
    code = worker._run(client, run_id, resume=resume)
    sys.stdout.flush()
    sys.stderr.flush()
    if _push_quietly(client, run_id):
        client.forget(run_id)
    return code


def _place_model(client, sha: str, bundle: str) -> None:
    """A kept model where `comeback_keep.kept_path` looks for it under the client's home."""
    from rnnlab.comeback.keep import kept_path

    target = kept_path(client, bundle)
    if target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    source = client.fetch_data(sha, f"{bundle}.zip")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _push_quietly(client, run_id: str) -> bool:
    """Send what is left (the log); False when the head could not be reached."""
    try:
        client.push_files(run_id)
        return True
    except Exception:
        return False

"""One run, start to finish: `python -m rnnlab.worker RUN_ID [--home DIR] [--resume]`.

`--standby` starts a spare worker instead: it loads Keras, then waits for the run the job
runner sends it on stdin (`standby`).

`execute` is the single catch-all of a run. It reads the run's config from the store, prepares
the data, trains (`train.train_run`; a run of an uploaded model is only evaluated, or trained
from its weights, see `rnnlab.comeback`), evaluates the validation and test parts against the
baselines, writes the artefacts (config.json, predictions.csv, forecast.csv; the model and
checkpoints come from training) and the summary, and sets the final status. Any exception ends
the run `failed` with its message and traceback in the store; nothing escapes to the caller.

A full disk ends the run `failed` with a message that says so and what to do. Recording that
needs a little room itself: if the first try fails, the worker gives back what it can (the
partial files of a checkpoint that did not fit, the store's journal) and records a shorter
failure. If even that fails it says so on stderr (the run's log.txt) and returns; the run is
then still `running` in the store, and the job runner marks it interrupted once its worker is
gone and the store can be written again (it can then be resumed from its last checkpoint).

One heartbeat tells the job runner the worker is alive and getting on: a background thread
stamps the store every `HEARTBEAT_SECONDS` while the run makes progress (a chunk of batches, an
epoch, a step of preparing or evaluating calls `Heartbeat.progress`). A worker stuck for
`RNNLAB_HUNG_AFTER` seconds (default HUNG_AFTER) stops beating, so the runner stops it and marks
the run interrupted, resumable from its last checkpoint. TensorFlow is imported inside functions
only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path

from rnnlab import artefacts, backend, lifecycle
from rnnlab.artefacts import FREE_RUN, ONE_STEP
from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError, RunNotFound, StoreError
from rnnlab.store import RunStatus, Store, StoreFull, storage_error
from rnnlab.summary import RunSummary

HEARTBEAT_SECONDS = 2.0
HUNG_AFTER = 600.0           # seconds without progress before the heartbeat stops
HUNG_ENV = "RNNLAB_HUNG_AFTER"
CLASSICAL_ENV = "RNNLAB_CLASSICAL"   # "0": no classical baseline (exponential smoothing)
NICE_ENV = "RNNLAB_WORKER_NICE"
NICE = 10                    # a worker's CPU priority below the web pages' (Unix niceness)
FORECAST_STEPS = 30          # steps forecast past the end of the data (at least the horizon)
FREE_RUNNING_MAX_STEPS = 500  # a free-running test trajectory longer than this is cut


class Heartbeat:
    """A daemon thread that stamps the run's heartbeat (and pid) while the run makes progress."""

    def __init__(self, store: Store, run_id: str, every: float = HEARTBEAT_SECONDS,
                 hung_after: float | None = None):
        self.store, self.run_id, self.every = store, run_id, every
        self.hung_after = hung_after if hung_after is not None else hung_seconds()
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)

    def progress(self) -> None:
        """The run got on (a chunk of batches, an epoch, a step of its evaluation)."""
        self._last = time.monotonic()

    @property
    def stuck(self) -> bool:
        """No progress for `hung_after` seconds: the beats stop, so the runner steps in."""
        return time.monotonic() - self._last > self.hung_after

    def __enter__(self) -> "Heartbeat":
        self._beat(pid=os.getpid())
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            if not self.stuck:
                self._beat()

    def _beat(self, pid: int | None = None) -> None:
        try:
            self.store.heartbeat(self.run_id, pid=pid)
        except Exception:  # a busy store must not end the run; the next beat retries
            pass


def execute(store: Store, run_id: str, *, resume: bool = False, prepared=None) -> RunStatus:
    """Run one run to its final status; never raises once the run is taken.

    Before that it raises RunNotFound for a run that does not exist, and StoreError when a
    queued run cannot be marked running (the store cannot be written).
    """
    run = store.get_run(run_id)
    if not _take(store, run):
        return store.get_run(run_id).status
    with Heartbeat(store, run_id) as heart:
        try:
            try:
                return _execute(store, run_id, resume=resume, prepared=prepared,
                                progress=heart.progress)
            except KeyboardInterrupt:
                return _finish(store, run_id, RunStatus.CANCELLED, RunSummary(
                    message="Stopped from the keyboard. Resume it to continue."))
        except BaseException as exc:  # the one place that catches everything
            return _fail(store, run_id, exc)


def _take(store: Store, run) -> bool:
    """Make sure the run is ours to execute: running (claimed) or queued (started by hand)."""
    if run.status == RunStatus.QUEUED:
        return lifecycle.start(store, run.id,
                                started_at=run.started_at or time.time(), pid=os.getpid())
    return run.status == RunStatus.RUNNING


def hung_seconds() -> float:
    """RNNLAB_HUNG_AFTER: seconds without progress before a worker counts as hung."""
    try:
        return max(1.0, float(os.environ.get(HUNG_ENV, HUNG_AFTER)))
    except ValueError:
        return HUNG_AFTER


def _execute(store: Store, run_id: str, *, resume: bool, prepared,
             progress=lambda: None) -> RunStatus:
    run = store.get_run(run_id)
    cfg = RunConfig.from_dict(run.config)
    store.update_run(run_id, pid=os.getpid(), error=None, traceback=None, finished_at=None)
    store.artefact(run_id, artefacts.CONFIG).write_text(json.dumps(cfg.to_dict(), indent=2))
    if not resume:  # a resumed run's event comes from training, with the epoch it resumes from
        store.add_event(run_id, "started", f"Started (pid {os.getpid()}).")
    if store.cancel_requested(run_id):
        return _finish(store, run_id, RunStatus.CANCELLED,
                       RunSummary(message="Cancelled before training."))
    evaluating = cfg.from_model is not None and cfg.from_model.action == "evaluate"
    if prepared is None:
        if cfg.from_model is not None:  # an uploaded model: its own columns, transform, scaler
            from rnnlab import comeback

            prepared = comeback.prepare(store, cfg)
        else:
            from rnnlab import data

            prepared = data.prepare(cfg.data, cfg.model.lookback, cfg.model.horizon)
    if run.data_sha256 and prepared.data_sha256 != run.data_sha256:
        store.add_event(run_id, "data changed", "The data file changed since the run was queued; "
                        "it trains on the file as it is now.")
    from rnnlab import train

    progress()
    if evaluating:  # scored as a trained run is, without training (rnnlab.comeback)
        from rnnlab import comeback

        outcome = comeback.evaluation(store, run_id, cfg)
    else:
        outcome = train.train_run(store, run_id, cfg, prepared, resume=resume, progress=progress)
    progress()
    summary = _base_summary(store, run_id, cfg, prepared, outcome)
    if evaluating:
        summary.drop("notes")                           # a batch size does not apply
        summary.set(params=comeback.param_count(outcome.model), from_model=outcome.message)
    if outcome.status == RunStatus.DONE:
        _evaluate_and_write(store, run_id, cfg, prepared, outcome, summary)
    return _finish(store, run_id, RunStatus(outcome.status), summary)


def _base_summary(store: Store, run_id: str, cfg: RunConfig, prepared, outcome) -> RunSummary:
    """What every finished run reports, evaluated or not."""
    seconds = [s for s in store.curves(run_id, ("seconds",))["seconds"] if s is not None]
    summary = RunSummary().set(
        target=prepared.target, data_source=cfg.data.source, data_sha256=prepared.data_sha256,
        epochs_done=outcome.epochs_done,
        seconds_per_epoch=sum(seconds) / len(seconds) if seconds else None,
        params=_param_count(cfg, prepared), engine=_engine())
    if outcome.message:
        summary.set(message=outcome.message)
    from rnnlab.nn import kernels
    from rnnlab.validate import batch_note, loop_note

    notes = list(getattr(prepared, "notes", None) or [])
    notes += [note for note in (batch_note(cfg, len(prepared.X_train)),
                                loop_note(cfg, bool(kernels.KERAS_OWN))) if note]
    if notes:
        summary.set(notes=notes)
    future = getattr(prepared, "future_inputs", None)
    if future is not None:
        summary.set(future_inputs=len(future))
    return summary


def _engine() -> dict:
    """What this worker trained on (a repeat is answered only on the same: `jobs.engine`)."""
    from rnnlab import backend

    return {"backend": backend.active()}


def _param_count(cfg: RunConfig, prepared) -> int:
    """Trainable parameters, from the config and the number of inputs."""
    from rnnlab.model_info import estimate_params

    return estimate_params(cfg.model, len(prepared.inputs))


def _evaluate_and_write(store: Store, run_id: str, cfg: RunConfig, prepared, outcome,
                        summary: RunSummary) -> None:
    """Score val and test against the baselines; write predictions.csv and forecast.csv; add
    the scores to the summary."""
    from rnnlab import evaluate

    predict = _predictor(run_id, outcome)
    linear = evaluate.linear_ar(prepared)    # one fit on the training windows serves both parts
    results, frames, notes = {}, [], []
    classical_form = []
    for split in ("val", "test"):
        if len(getattr(prepared, f"t_{split}")) == 0:
            continue
        extra = _anchor(prepared, notes, classical_form) if split == "test" else {}
        ev = evaluate.evaluate(prepared, predict, split, extra_baselines=extra, linear=linear)
        results[split] = ev
        frames.append(_one_step_frame(ev))
    test = results["test"]
    frames.append(_free_running_frame(prepared, predict, linear, notes))
    bands = _intervals(prepared, predict, results.get("val"))
    if bands is not None:
        frames = [_with_bands(frame, bands) for frame in frames]
    artefacts.write_predictions(store.artefact(run_id, artefacts.PREDICTIONS), frames)
    _write_forecast(store, run_id, prepared, predict, bands, notes)
    from rnnlab.bundle import write_bundle

    write_bundle(store.run_dir(run_id), cfg, prepared)   # the model for new data, in its units
    train_target = prepared.values[:prepared.n_train, 0]
    summary.set(metrics={split: ev.metrics for split, ev in results.items()},
                skill_vs_naive=test.skill_vs_naive, sentence=test.verdict,
                best_baseline=test.best_baseline, skill_vs_best=test.skill_vs_best,
                headline=test.headline, transform=prepared.transform.kind,
                season=prepared.season,
                train_range={"min": float(train_target.min()), "max": float(train_target.max())},
                kind=test.kind, baseline_notes=test.baseline_notes,
                notes=(summary.notes or []) + test.notes + notes)
    if bands is not None:
        summary.set(intervals=_interval_summary(bands, frames))
    if classical_form:
        summary.set(classical=classical_form[0])


def _intervals(prepared, predict, val):
    """Split-conformal half-widths from the validation rows (`rnnlab.intervals`), or None when
    there are no validation rows."""
    from rnnlab import intervals

    if val is None or not len(val.actual):
        return None
    steps = max(prepared.horizon, FORECAST_STEPS, min(prepared.n_test, FREE_RUNNING_MAX_STEPS))
    free = intervals.free_running_errors(prepared, predict, max_steps=steps)
    return intervals.fit(val.predictions - val.actual, free, steps)


def _with_bands(frame, bands):
    """predictions.csv rows with lower_/upper_ columns at each level: one-step rows by their
    horizon step, free-running rows by their step along the trajectory."""
    import numpy as np

    from rnnlab.intervals import label

    step = frame["step"].to_numpy(dtype=int) - 1                      # (n,)
    free = (frame["kind"] == FREE_RUN).to_numpy()
    frame = frame.copy()
    for level in bands.levels:
        one, far = bands.one_step[level], bands.free_running[level]
        width = np.where(free, far[np.minimum(step, len(far) - 1)],
                         one[np.minimum(step, len(one) - 1)])
        width = np.where(np.isfinite(width), width, np.nan)
        frame[f"lower_{label(level)}"] = frame["model"] - width
        frame[f"upper_{label(level)}"] = frame["model"] + width
    return frame


def _interval_summary(bands, frames) -> dict:
    """The half-widths and the coverage on the test part: the share of actual values inside
    their interval, one-step and free-running, at each level."""
    import pandas as pd

    from rnnlab.intervals import coverage, label

    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["split"] == "test"]
    out = bands.summary()
    for level in bands.levels:
        k = label(level)
        for kind, name in ((ONE_STEP, "coverage_one_step"), (FREE_RUN, "coverage_free_running")):
            part = rows[rows["kind"] == kind]
            out["levels"][k][name] = coverage(part["actual"], part[f"lower_{k}"],
                                              part[f"upper_{k}"])
    return out


def _anchor(prepared, notes: list[str], form: list[str] | None = None) -> dict:
    """The classical anchor's one-step forecasts of the test part, when the optional extra is
    installed and not turned off (RNNLAB_CLASSICAL=0; its fits take a second or two); its form
    (e.g. "ETS(M,A,M), season 12") is appended to `form`."""
    if prepared.horizon != 1:
        return {}
    t = prepared.t_test
    n_fit = prepared.n_train + prepared.n_val                  # every row before the test part
    found = _classical(lambda classical: classical.anchor(prepared.values[:, 0], n_fit, t,
                                                          prepared.season),
                       notes, "The classical baseline could not be fitted")
    if found is None:
        return {}
    name, values = found
    notes.append(f"Classical baseline: {name}, fitted on the rows before the test part.")
    if form is not None:
        form.append(name)
    return {"anchor": values.reshape(len(t), 1)}


def _classical(call, notes: list[str], failed: str):
    """call(rnnlab.classical), or None when the optional extra is turned off
    (RNNLAB_CLASSICAL=0), not installed, or its fit fails (then `failed` and why go in the
    notes: a classical baseline must never fail the run)."""
    if os.environ.get(CLASSICAL_ENV, "1") == "0":
        return None
    try:
        from rnnlab import classical

        return call(classical)
    except ImportError:                   # statsmodels, the optional extra, is not installed
        return None
    except Exception as exc:
        notes.append(f"{failed} ({type(exc).__name__}: {exc}).")
        return None


def _predictor(run_id: str, outcome):
    """The trained model's predict_fn (scaled windows -> scaled targets)."""
    if outcome.predict is None:
        raise RuntimeError(f"Training of run {run_id} ended done without a predict function.")
    return outcome.predict


def _one_step_frame(ev):
    """predictions.csv rows of one split, teacher forced."""
    frame = ev.to_frame()
    frame.insert(0, "kind", ONE_STEP)
    frame.insert(0, "split", ev.split)
    return frame


def _free_running_frame(prepared, predict, linear=None, notes: list[str] | None = None):
    """predictions.csv rows of a free-running trajectory over the test part, beside the same
    path of each baseline: naive and the mean held, seasonal naive repeating the last season,
    the linear autoregression fed its own forecasts, and ETS run forward (when installed)."""
    import numpy as np
    import pandas as pd

    from rnnlab import evaluate

    start = prepared.n_train + prepared.n_val  # first test row
    steps = min(prepared.n_test, FREE_RUNNING_MAX_STEPS)
    traj = evaluate.free_running(prepared, predict, start, steps)
    target = np.asarray(prepared.values, dtype=float)[:, 0]  # (T,)
    step = np.arange(steps)  # (steps,)
    frame = pd.DataFrame({"split": "test", "kind": FREE_RUN, "timestamp": np.asarray(traj.index),
                          "step": step + 1, "actual": traj.actual, "model": traj.values,
                          "naive": target[start - 1],
                          "mean": float(target[:prepared.n_train].mean())})
    seasonal = evaluate.seasonal_naive_path(target, start, steps, prepared.season)
    if seasonal is not None:
        frame["seasonal_naive"] = seasonal
    if linear is not None:
        frame["linear_ar"] = evaluate.free_running(prepared, linear, start, steps).values
    path = _anchor_path(prepared, start, steps, notes if notes is not None else [])
    if path is not None:
        frame["anchor"] = path
    frame["origin"] = prepared.index[start - 1]
    return frame


def _anchor_path(prepared, start: int, steps: int, notes: list[str]):
    """ETS's forecast of the test part run forward from its first row (steps,), or None when
    the optional extra is missing, turned off, or cannot be fitted (said in the notes)."""
    found = _classical(lambda classical: classical.anchor_path(
        prepared.values[:start, 0], start, steps, prepared.season),
        notes, "The classical baseline's free-running forecast could not be made")
    return None if found is None else found[1]


def _write_forecast(store: Store, run_id: str, prepared, predict, bands=None,
                    notes: list[str] | None = None) -> None:
    """forecast.csv: the next steps past the end of the data, free-running, with the
    intervals' lower_/upper_ columns when there are any, and the classical anchor's forecast of
    the same steps (fitted on every row) when the optional extra is installed."""
    import numpy as np

    from rnnlab import evaluate
    from rnnlab.intervals import label

    steps = max(prepared.horizon, FORECAST_STEPS)
    index, values = evaluate.forecast_beyond(prepared, predict, steps)
    widths = {}
    for level in (bands.levels if bands is not None else ()):
        width = bands.free_running[level][:steps]
        widths[label(level)] = np.where(np.isfinite(width), width, np.nan)
    everything = len(prepared.values)
    found = _classical(lambda classical: classical.anchor_path(
        prepared.values[:, 0], everything, steps, prepared.season),
        notes if notes is not None else [],
        "The classical forecast beyond the data could not be made")
    artefacts.write_forecast(store.artefact(run_id, artefacts.FORECAST),
                             artefacts.forecast_frame(index, values, widths,
                                                      None if found is None else found[1]))


def _finish(store: Store, run_id: str, status: RunStatus, summary: RunSummary) -> RunStatus:
    """Write the summary and final status together (finished_at set)."""
    try:
        if lifecycle.finish(store, run_id, status, summary=summary.to_dict()):
            store.add_event(run_id, status.value, summary.message or f"Run {status.value}.")
    except RunNotFound:  # deleted while it ran
        pass
    return status


def failure_message(store: Store, exc: BaseException) -> str:
    """The message for people: a user's mistake as it is, a full disk in plain words."""
    if isinstance(exc, RnnlabError):
        return str(exc)
    problem = storage_error(exc, store.home)
    if isinstance(problem, StoreFull):  # ENOSPC from a checkpoint, a CSV, SQLite...
        return str(problem)
    return f"{type(exc).__name__}: {exc}"


def _fail(store: Store, run_id: str, exc: BaseException) -> RunStatus:
    """Record a failure: the message for people, the traceback for whoever fixes it."""
    message = failure_message(store, exc)
    detail = "".join(traceback.format_exception(exc))
    try:
        _record_failure(store, run_id, message, detail)
        return RunStatus.FAILED
    except RunNotFound:  # deleted while it ran
        return RunStatus.FAILED
    except Exception as first:  # most likely the disk is full: make room, then say less
        problem = first
    if isinstance(problem, StoreFull) or isinstance(storage_error(exc, store.home), StoreFull):
        _make_room(store, run_id)
        try:
            _record_failure(store, run_id, message, "")
            _say(detail)
            return RunStatus.FAILED
        except RunNotFound:
            return RunStatus.FAILED
        except Exception as second:
            problem = second
    why = "the disk is still full" if isinstance(problem, StoreFull) else str(problem)
    _UNRECORDED[run_id] = (lifecycle.EXIT_DISK_FULL if isinstance(problem, StoreFull)
                           else lifecycle.EXIT_UNRECORDED)
    _say(f"Run {run_id} failed: {message}\nThe failure could not be recorded in the run store "
         f"either ({why}). Once the store can be written again, the job runner marks the run "
         f"interrupted and it can be resumed from its last checkpoint.\n{detail}")
    return RunStatus.FAILED


_UNRECORDED: dict[str, int] = {}   # run id -> the exit code saying why its end went unrecorded


def _record_failure(store: Store, run_id: str, message: str, detail: str) -> None:
    if not lifecycle.fail(store, run_id, error=message, traceback=detail or None):
        store.get_run(run_id)          # RunNotFound when it was deleted while it ran
        return                         # else it had ended already: its status stays
    try:
        store.add_event(run_id, "failed", message)
    except StoreError:  # the status is what matters; the event log line is a nicety
        pass


def _make_room(store: Store, run_id: str) -> None:
    """Give back what a failed write left behind: partial files, the store's journal."""
    try:
        for partial in store.run_dir(run_id).glob(".*partial*"):
            partial.unlink(missing_ok=True)
    except (OSError, StoreError):
        pass
    store.shrink_journal()


def _say(text: str) -> None:
    """Write to stderr (the run's log.txt), which may itself be on the full disk."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


COMPILE_CACHE = "compile-cache"   # in the store's folder: JAX's compiled steps, by shape


def main(argv: list[str] | None = None) -> int:
    """Entry point of a worker process; exit 0 unless the run failed."""
    parser = argparse.ArgumentParser(prog="python -m rnnlab.worker", description=__doc__.split("\n")[0])
    parser.add_argument("run_id", nargs="?")
    parser.add_argument("--home", default=None, help="the run store's folder (default RNNLAB_HOME)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--standby", action="store_true",
                        help="load Keras first, then wait for one run on stdin (the job runner's "
                             "spare worker)")
    args = parser.parse_args(argv)
    if args.standby == bool(args.run_id):
        parser.error("give either a run id or --standby")
    try:
        yield_cpu()
        store = Store(args.home)
        backend.cache_compiled(store.home / COMPILE_CACHE)
        if args.standby:
            return standby(store)
        return _run(store, args.run_id, resume=args.resume)
    except RnnlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def niceness() -> int:
    """RNNLAB_WORKER_NICE: how far a worker process lowers its CPU priority, 0 (not at all) to
    19; NICE by default, and for a value that is not a whole number in that range (the run's
    log says so: a typo in a setting must not cost a class its runs)."""
    raw = os.environ.get(NICE_ENV, "").strip()
    try:
        value = int(raw) if raw else NICE
    except ValueError:
        value = -1
    if 0 <= value <= 19:
        return value
    print(f"note: {NICE_ENV} must be a whole number from 0 (the web pages' priority) to 19 "
          f"(the lowest); received {raw!r}, so the worker uses {NICE}.", flush=True)
    return NICE


def yield_cpu() -> None:
    """Lower this worker process's CPU priority (Unix niceness, `niceness()`).

    A training run takes every cycle it is given; the web process answers 30 students in
    bursts. Below the web process in priority, a worker still gets the whole CPU when nobody is
    on the pages, and the pages answer at once when somebody is (bench/RESULTS.md, "Load").
    Only worker processes call this (`main`): the in-process executor's threads share the
    caller's process and priority.
    """
    steps = niceness()
    if steps and hasattr(os, "nice"):
        try:
            os.nice(steps)
        except OSError:  # not allowed here: train at the priority we have
            pass


def _run(store: Store, run_id: str, *, resume: bool) -> int:
    status = execute(store, run_id, resume=resume)
    try:
        print(f"run {run_id}: {status.value}", flush=True)
    except (OSError, ValueError):  # stdout is the run's log.txt, maybe on a full disk
        pass
    if run_id in _UNRECORDED:          # the runner reads this code: the run stays resumable
        return _UNRECORDED.pop(run_id)
    return 1 if status == RunStatus.FAILED else 0


def standby(store: Store) -> int:
    """A spare worker: load Keras and the engine now, then run the one run the job runner sends.

    Importing Keras is a second or more of every run's wait for its first loss; a spare pays it
    before the run is submitted. The runner writes one JSON line to stdin, {"run_id", "resume",
    "log"}; end of input (the runner stopped, or dropped the spare) ends the process quietly.
    A warm-up that fails is reported in the run's log, and the run goes on as a fresh worker
    would (where the same failure then ends the run with its message).
    """
    warm_error = ""
    try:
        warm_up()
    except Exception:
        warm_error = traceback.format_exc()
    line = sys.stdin.buffer.readline()
    if not line.strip():
        return 0
    job = json.loads(line)
    _output_to(job["log"])
    name_process(job["run_id"])
    if warm_error:
        _say(f"The spare worker could not load everything in advance:\n{warm_error}")
    return _run(store, job["run_id"], resume=bool(job.get("resume")))


def warm_up() -> None:
    """Import what every run needs (Keras on its backend, the engine) before a run arrives."""
    backend.use()
    name = backend.active()
    for module in ("data", "evaluate", "nn.model", "nn.callbacks", "train"):
        importlib.import_module(f"rnnlab.{module}")
    if name == "jax":
        import jax.numpy as jnp

        jnp.zeros(1).block_until_ready()  # starts the CPU client


def _output_to(path: str) -> None:
    """Point this process's stdout and stderr (Python's and the C libraries') at a log file."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


COMM_CHARS = 15   # Linux keeps the first 15 bytes of a process name


def name_process(run_id: str) -> None:
    """Name the process after its run (the run id's last COMM_CHARS characters), so that a
    spare's command line, which names no run, can still be matched to its run."""
    try:
        Path("/proc/self/comm").write_text(run_id[-COMM_CHARS:])
    except OSError:  # no /proc (macOS): the runner then cannot tell, and leaves it alone
        pass


if __name__ == "__main__":
    sys.exit(main())

"""Queueing runs: `submit` one, a group of seeds, a sweep or a backtest; the cap per person.

Lifecycle: `queued -> running -> done | diverged | failed | cancelled | interrupted`
(`rnnlab.lifecycle`).

- `submit` checks a `RunConfig` and its data, then adds a queued run. It never imports
  TensorFlow and never trains in the caller's process. A run that repeats another (the same
  settings, data and seed) is answered from its results (`rnnlab.jobs.repeats`).
- `submit_seeds`, `submit_sweep` and `submit_backtest` queue a group of runs in one action;
  every config is checked before any run is queued.
- `check_turns` caps the runs one person may have waiting (RNNLAB_MAX_QUEUED_PER_USER).

The rest of the job system has its own modules, and its names can be imported from here too:
the runner (`rnnlab.jobs.runner`: `Runner`, `get_runner`), where workers run (`rnnlab.jobs.executors`:
the `Executor` interface, `InProcessExecutor`, `make_executor`; `rnnlab.jobs.process`:
`LocalProcessExecutor`), and what is done to a queued run (`rnnlab.jobs.actions`: `cancel`,
`resume`, `delete`, `recover`).
"""

from __future__ import annotations

import os
from pathlib import Path

from rnnlab import lifecycle
from rnnlab.jobs import repeats
from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.jobs.executors import (EXECUTORS, Executor, InProcessExecutor,  # noqa: F401
                              WorkerEnd, make_executor, pid_alive)
from rnnlab.jobs.process import (SPARE_ENV, LocalProcessExecutor,  # noqa: F401
                                     _is_worker_of)
from rnnlab.jobs.repeats import engine  # noqa: F401
from rnnlab.jobs.actions import cancel, checkpoint_epoch, delete, recover, resume  # noqa: F401
from rnnlab.jobs.runner import Runner, default_concurrency, get_runner, wake_runners  # noqa: F401
from rnnlab.store import RunStatus, Store

_wake_runners = wake_runners   # the name rnnlab.comeback calls it by


def absolute_sources(run_cfg: RunConfig) -> RunConfig:
    """The config with file paths made absolute, so a worker in another folder finds them."""
    changes = {}
    for key in ("source", "test_source"):
        value = getattr(run_cfg.data, key)
        if value and Path(value).expanduser().is_file():
            changes[key] = str(Path(value).expanduser().resolve())
    return run_cfg.replace(data=changes) if changes else run_cfg


def afresh(run_cfg: RunConfig) -> RunConfig:
    """The config without a model brought back: settings copied from such a run (a coach's
    "try this", "use these settings") train a new network. Runs that evaluate or continue an
    uploaded model are queued by `rnnlab.comeback.submit` only."""
    return run_cfg.replace(from_model=None) if run_cfg.from_model is not None else run_cfg


def check(run_cfg: RunConfig):
    """Prepare the run's data once (no TensorFlow): RnnlabError if it cannot train; the Prepared."""
    from rnnlab import validate  # pandas-heavy; imported when first needed

    return validate.check_run_feasible(run_cfg)   # a file over the size limit: data.load says so


def submit(store: Store, run_cfg: RunConfig, *, check_data: bool = True, owner: str = "",
           room: str = "", reuse: bool = True) -> str:
    """Check the config and its data, queue the run, and return its id at once.

    `owner` and `room` say who queued it (classroom mode; see `check_turns` for the cap per
    owner). With `reuse`, a run whose settings, data and seed equal a finished run's (or one
    queued or training now) is not trained again: it is answered from that run's results, at
    once or as soon as that run is done (`answer_repeats`).
    """
    if not isinstance(run_cfg, RunConfig):
        raise ConfigError(f"submit needs a RunConfig. Received: {type(run_cfg).__name__}")
    run_cfg = absolute_sources(afresh(run_cfg))
    sha = check(run_cfg).data_sha256 if check_data else ""
    check_turns(store, owner)
    config = run_cfg.to_dict()
    twin = store.find_twin(config, sha, repeats.engine()) if reuse and sha else None
    run_id = store.create_run(config, data_sha256=sha, name=run_cfg.name,
                              epochs_total=run_cfg.train.epochs, owner=owner, room=room,
                              repeat_of=twin.id if twin else "")
    if twin is None:
        store.add_event(run_id, "queued", "Queued.")
    else:
        store.add_event(run_id, "repeat", repeats.repeat_message(twin))
        if twin.status in lifecycle.ANSWERS:
            repeats.answer(store, run_id, twin.id)
    wake_runners(store)   # a runner of this process takes it now, not at its next tick
    return run_id


MAX_QUEUED_ENV = "RNNLAB_MAX_QUEUED_PER_USER"


class QueueFull(RnnlabError):
    """An owner already has as many runs waiting as RNNLAB_MAX_QUEUED_PER_USER allows."""


def max_queued() -> int:
    """RNNLAB_MAX_QUEUED_PER_USER: runs one owner may have waiting (0 or unset: no cap)."""
    raw = os.environ.get(MAX_QUEUED_ENV, "").strip() or "0"
    try:
        return max(0, int(raw))
    except ValueError:
        raise ConfigError(f"{MAX_QUEUED_ENV} must be a whole number (0 for no limit). "
                          f"Received: {raw!r}") from None


def check_turns(store: Store, owner: str, adding: int = 1) -> None:
    """QueueFull when `owner` (a named session) would have more waiting runs than allowed."""
    cap = max_queued()
    if not owner or not cap:
        return
    waiting = store.queued_count(owner)
    if waiting + adding > cap:
        raise QueueFull(
            f"{owner}, you already have {waiting} run{'s' if waiting != 1 else ''} waiting, and "
            f"each person may have {cap} at a time so that everyone gets a turn. Wait until one "
            "starts, or cancel one on the Train page, then press Train again.")


def submit_seeds(store: Store, run_cfg: RunConfig, seeds: int, *, check_data: bool = True,
                 owner: str = "", room: str = "") -> tuple[str, list[str]]:
    """Queue the same setup with `seeds` seeds (the config's seed, then the next ones) as one
    group, in one action; the group's id and its runs' ids in seed order."""
    from rnnlab import groups

    if not isinstance(run_cfg, RunConfig):
        raise ConfigError(f"submit_seeds needs a RunConfig. Received: {type(run_cfg).__name__}")
    values = groups.seed_values(run_cfg.train.seed, seeds)
    run_cfg = absolute_sources(afresh(run_cfg))
    sha = check(run_cfg).data_sha256 if check_data else ""   # the data is the same for all
    check_turns(store, owner, adding=len(values))
    configs = [run_cfg.replace(train={"seed": s}, name=groups.member_name(run_cfg.name, s))
               for s in values]
    group_id, run_ids = store.create_group(
        [c.to_dict() for c in configs], kind="seeds", data_sha256=sha,
        label=groups.seeds_label(run_cfg.name, values[0], seeds),
        names=[c.name for c in configs], epochs_total=[c.train.epochs for c in configs],
        owner=owner, room=room)
    for run_id, s in zip(run_ids, values):
        store.add_event(run_id, "queued", f"Queued, seed {s} of the group {group_id}.")
    wake_runners(store)
    return group_id, run_ids


def submit_sweep(store: Store, run_cfg: RunConfig, axes: dict[str, list], seeds: int = 1, *,
                 check_data: bool = True, owner: str = "", room: str = ""
                 ) -> tuple[str, list[str]]:
    """Queue a grid of settings (1 or 2 settings × a few values, × seeds) as one group; the
    group's id and its runs' ids in grid order. Every cell's config is checked before any run
    is queued, so a bad value (e.g. a lookback longer than the data) queues nothing."""
    from rnnlab import groups

    if not isinstance(run_cfg, RunConfig):
        raise ConfigError(f"submit_sweep needs a RunConfig. Received: {type(run_cfg).__name__}")
    run_cfg = absolute_sources(afresh(run_cfg))
    configs = groups.sweep_configs(run_cfg, axes, seeds)
    sha = ""
    if check_data:
        checked = {}
        for c in configs:          # the data is read once per distinct window shape
            key = (c.model.lookback, c.model.horizon, c.train.batch_size)
            if key not in checked:
                checked[key] = check(c).data_sha256
        sha = next(iter(checked.values()))
    check_turns(store, owner, adding=len(configs))
    group_id, run_ids = store.create_group(
        [c.to_dict() for c in configs], kind="sweep", data_sha256=sha,
        label=groups.sweep_label(run_cfg.name, axes, seeds), names=[c.name for c in configs],
        epochs_total=[c.train.epochs for c in configs], owner=owner, room=room)
    for run_id, c in zip(run_ids, configs):
        store.add_event(run_id, "queued", f"Queued in the sweep {group_id}.")
    wake_runners(store)
    return group_id, run_ids


def submit_backtest(store: Store, run_cfg: RunConfig, folds: int, *, owner: str = "",
                    room: str = "") -> tuple[str, list[str]]:
    """Queue the setup at `folds` origins rolling forward through its data file, as one
    group (`groups.backtest_configs`); every fold is checked before any is queued."""
    from rnnlab import groups
    from rnnlab.data import part_size

    if not isinstance(run_cfg, RunConfig):
        raise ConfigError(f"submit_backtest needs a RunConfig. Received: {type(run_cfg).__name__}")
    run_cfg = absolute_sources(afresh(run_cfg))
    whole = check(run_cfg.replace(data={"end_row": None}))
    n_rows = len(whole.values)
    configs = groups.backtest_configs(run_cfg, folds, n_rows)
    for c in configs:
        check(c)
    check_turns(store, owner, adding=len(configs))
    h = part_size(n_rows, run_cfg.data.test_fraction)
    group_id, run_ids = store.create_group(
        [c.to_dict() for c in configs], kind="backtest", data_sha256=whole.data_sha256,
        label=groups.backtest_label(run_cfg.name, folds, h), names=[c.name for c in configs],
        epochs_total=[c.train.epochs for c in configs], owner=owner, room=room)
    for run_id in run_ids:
        store.add_event(run_id, "queued", f"Queued in the backtest {group_id}.")
    wake_runners(store)
    return group_id, run_ids

"""`rnnlab runner`: the queue, run in the foreground, with a line for each run that starts or ends."""

from __future__ import annotations

import signal
from typing import TextIO

from rnnlab import jobs
from rnnlab.store import RunStatus, Store


def cmd_runner(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Run the queue in the foreground until Ctrl-C (or until idle); workers outlive it."""
    store.check_writable()
    runner = jobs.Runner(store, concurrency=args.concurrency, executor=jobs.make_executor(args.executor))
    print(f"Runner on {store.home}: up to {runner.concurrency} run(s) at once. Ctrl-C stops the "
          "runner; runs in progress go on.", file=out, flush=True)
    watch = _Watcher(store, runner, out)
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        runner.run_forever(until_idle=args.until_idle, on_tick=watch)
    except KeyboardInterrupt:
        print("Runner stopped.", file=out)
    finally:
        runner.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


class _Watcher:
    """Prints a line when a run starts or ends, and when the runner waits for another one."""

    def __init__(self, store: Store, runner: jobs.Runner, out: TextIO):
        self.store, self.runner, self.out = store, runner, out
        self.seen: dict[str, RunStatus] = {}
        self.was_active: bool | None = None

    def __call__(self) -> None:
        if self.runner.active != self.was_active:
            self.was_active = self.runner.active
            if not self.runner.active:
                print("Another runner is active on this home; waiting to take over.",
                      file=self.out, flush=True)
        for run in self.store.list_runs(limit=200):
            before = self.seen.get(run.id)
            self.seen[run.id] = run.status
            if before is not None and before != run.status:
                print(f"{run.id}  {before.value} -> {run.status.value}  {run.label}",
                      file=self.out, flush=True)

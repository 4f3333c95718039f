"""A run trained here, in this process, with a progress bar: redrawn on a terminal, a line per
10% otherwise."""

from __future__ import annotations

import threading
from typing import TextIO

from rnnlab.cli.tables import duration
from rnnlab.errors import RnnlabError
from rnnlab.store import RunRecord, Store

BAR_WIDTH = 24


class Progress:
    """A progress bar with ETA on a text stream: redrawn on a terminal, a line per 10% otherwise."""

    def __init__(self, store: Store, run_id: str, stream: TextIO, every: float = 0.5):
        self.store, self.run_id, self.stream, self.every = store, run_id, stream, every
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rnnlab-progress")
        self._last_decile = -1
        self._last_done = -1

    def __enter__(self) -> "Progress":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.draw()
        if self.tty:
            print(file=self.stream, flush=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.draw()
            except RnnlabError:  # a busy store: skip this frame
                pass

    def draw(self) -> None:
        """Draw the current state once."""
        run = self.store.get_run(self.run_id)
        if run.epochs_done == self._last_done and not self.tty:
            return
        decile = int(10 * run.progress)
        if not self.tty and decile <= self._last_decile:
            return
        self._last_done, self._last_decile = run.epochs_done, decile
        line = progress_line(run, self._last_loss(run))
        if self.tty:
            print("\r" + line.ljust(100)[:max(100, len(line))], end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)

    def _last_loss(self, run: RunRecord) -> float | None:
        rows = self.store.epochs(run.id)[-1:] if run.epochs_done else []
        return rows[0]["train_loss"] if rows else None


def progress_line(run: RunRecord, loss: float | None = None) -> str:
    """`epoch 7/20 [#######-----] 35%  elapsed 3 s  ETA 6 s  loss 0.0123`."""
    filled = int(round(BAR_WIDTH * run.progress))
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    text = (f"epoch {run.epochs_done}/{run.epochs_total} [{bar}] {100 * run.progress:3.0f}%  "
            f"elapsed {duration(run.elapsed)}")
    if run.eta is not None:
        text += f"  ETA {duration(run.eta)}"
    if loss is not None:
        text += f"  loss {loss:.4g}"
    return text


def execute_here(store: Store, run_id: str, err: TextIO, **options) -> RunRecord:
    """Train (or score) a started run in this process, its progress bar on `err`; the run as it
    ended. `options` go to `rnnlab.worker.execute`."""
    from rnnlab import worker

    with Progress(store, run_id, err):
        worker.execute(store, run_id, **options)
    return store.get_run(run_id)

"""A run's checkpoint files, and the epoch writer that keeps them while training goes on.

  checkpoint.keras  the model after the last finished epoch, with the optimizer state
                    (a standard Keras file; written to a temporary name, then renamed)
  checkpoint.json   {"epoch": k, "iterations": optimizer steps so far}

The .keras file is renamed into place just before the .json one (`rnnlab.train` reads both
back on resume). Importing this module loads no Keras; its functions take it from the model.
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path

from rnnlab import backend
from rnnlab.artefacts import CHECKPOINT, write_checkpoint_meta
from rnnlab.store import Store


class EpochWriter:
    """Finishes each epoch on a background thread, so training goes on meanwhile.

    `submit` copies every weight and optimizer variable (a few ms) and hands the copy to a
    thread, which loads it into a twin model, computes the gradient through time on the twin
    (the probe), writes the epoch's row to the store and then the checkpoint (tens of ms that
    the otherwise idle second core absorbs). One epoch is in flight at a time; `wait` returns
    when it is on disk and re-raises a failure of the thread.
    """

    def __init__(self, model, store: Store, run_id: str, run_dir: Path, probe=None):
        self.model, self.store, self.run_id = model, store, run_id
        self.run_dir, self.probe = Path(run_dir), probe
        self._twin = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, epoch: int, row: dict) -> None:
        """Record `row` (store.add_epoch arguments) and checkpoint the state after `epoch`."""
        self.wait()
        twin, sources = self._twin_and_sources()
        values = [v.numpy() for v in sources]
        iterations = int(self.model.optimizer.iterations.numpy())
        self._thread = threading.Thread(target=self._finish,
                                        args=(twin, values, epoch, iterations, row),
                                        name=f"epoch-{epoch}-writer")
        self._thread.start()

    def warm_up(self) -> None:
        """Build the twin and compile the probe on the writer's thread while training starts.

        Otherwise the first epoch's row would wait for both (seconds on JAX), and the first
        loss point would show that much later.
        """
        self.wait()
        optimizer = self.model.optimizer
        if not optimizer.built:  # TensorFlow builds it at the first step; the twin needs it now
            optimizer.build(self.model.trainable_variables)
        twin, _ = self._twin_and_sources()
        self._thread = threading.Thread(target=self._warm, args=(twin,), name="probe-warm-up")
        self._thread.start()

    def _warm(self, twin) -> None:
        from rnnlab.nn import gradients

        try:
            if self.probe is not None:
                gradients.through_time(twin, *self.probe, jit=False)
        except BaseException as exc:  # handed to the training thread by wait()
            self._error = exc

    def wait(self) -> None:
        """Block until the last epoch is written; raise its error if it failed."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _finish(self, twin, values, epoch: int, iterations: int, row: dict) -> None:
        from rnnlab.nn import gradients

        try:
            for var, value in zip(all_variables(twin), values):
                var.assign(value)
            through = None
            if self.probe is not None:  # off the training path, so not worth an XLA compile
                through = gradients.through_time(twin, *self.probe, jit=False)
            self.store.add_epoch(self.run_id, epoch, **row, through_time=through)
            atomic_keras_save(twin, self.run_dir / CHECKPOINT)
            write_checkpoint_meta(self.run_dir, epoch, iterations)
            sent = getattr(self.store, "files_changed", None)   # a remote worker's store client
            if sent is not None:                                # sends them to the head
                from rnnlab.artefacts import CHECKPOINT_META

                sent(self.run_id, (CHECKPOINT, CHECKPOINT_META))
        except BaseException as exc:  # handed to the training thread by wait()
            self._error = exc

    def _twin_and_sources(self):
        """A clone of the checkpoint view with its own optimizer, variables in the same order."""
        keras = backend.keras()

        view = checkpoint_view(self.model)
        if self._twin is None:
            twin = keras.models.clone_model(view)
            opt = self.model.optimizer
            twin.compile(optimizer=type(opt).from_config(opt.get_config()), loss=view.loss)
            twin.optimizer.build(twin.trainable_variables)
            if [v.shape for v in all_variables(twin)] != [v.shape for v in all_variables(view)]:
                raise RuntimeError("The checkpoint twin does not match the model's variables.")
            self._twin = twin
        return self._twin, all_variables(view)


def all_variables(keras_model) -> list:
    """Model variables then optimizer variables: what a .keras checkpoint holds."""
    return list(keras_model.variables) + list(keras_model.optimizer.variables)


_VIEWS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def checkpoint_view(model):
    """The plain functional view of `model`, compiled with its (shared) optimizer; cached."""
    from rnnlab.nn.model import plain_model

    view = _VIEWS.get(model)
    if view is None:
        view = plain_model(model)
        view.compile(optimizer=model.optimizer, loss=model.loss)
        _VIEWS[model] = view
    return view


def atomic_keras_save(keras_model, path: Path) -> None:
    """Save a .keras file under a temporary name, then rename it into place."""
    tmp = path.with_name(f".{path.stem}-partial.keras")
    keras_model.save(tmp)
    os.replace(tmp, path)

"""A run whose layers leave rnnlab's fast loops says so in its notes (JAX on a CPU)."""

from __future__ import annotations

import pytest

from rnnlab import backend, worker
from rnnlab.config import RunConfig
from rnnlab.store import RunStatus

pytestmark = pytest.mark.slow


def test_a_run_with_recurrent_dropout_notes_that_it_runs_keras_own_loop(store):
    from rnnlab.nn import kernels

    cfg = RunConfig().replace(model={"cell": "lstm", "n_layers": 1, "units": 4, "lookback": 8,
                                     "recurrent_dropout": 0.1},
                              train={"epochs": 1, "batch_size": 64})
    run_id = store.create_run(cfg.to_dict())
    assert worker.execute(store, run_id) == RunStatus.DONE, store.get_run(run_id).error
    notes = store.get_run(run_id).summary.get("notes") or []
    said = [n for n in notes if "Keras' own LSTM loop" in n]
    if backend.active() == "jax" and kernels.KERAS_OWN:
        assert said == ["Recurrent dropout makes the layer run Keras' own LSTM loop, slower "
                        "than rnnlab's."]
    else:                               # no fast loops to leave: nothing to say
        assert not said

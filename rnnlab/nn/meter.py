"""The gradient meter: per-tensor gradient norms of every training step, kept for the epoch.

`GradientMeter` is a Keras metric whose variables the compiled training step (see
`rnnlab.nn.tracking`) updates on every batch: for each trainable tensor the sum and the max of
its gradient norm over the epoch, and the global norm of every step. Norms are taken *before*
clipping, so the dashboard shows what clipping had to tame. Because the updates run inside the
compiled step, they cost nothing measurable. `read` gives an epoch as plain numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab import backend

keras = backend.keras()
ops = keras.ops


@dataclass(frozen=True)
class EpochGradients:
    """One epoch of gradient telemetry, read from a GradientMeter."""

    tensor_norms: dict[str, tuple[float, float]]   # name -> (mean over steps, max over steps)
    step_norms: list[float]                        # global norm of every step, in order
    steps: int

    @property
    def global_max(self) -> float | None:
        """Largest global norm of the epoch."""
        return float(np.max(self.step_norms)) if self.step_norms else None


class GradientMeter(keras.metrics.Metric):
    """Per-tensor sum/max of the gradient norm and the global norm of every step.

    A Keras metric, so its variables live in the training state on every backend (on JAX the
    step updates them statelessly). Keras' own resets are ignored (it resets metrics before
    validation too); `reset` starts an epoch. Its result is the mean global norm.
    Sized for tensors `names` and epochs of up to `max_steps` steps.
    """

    def __init__(self, names: list[str], max_steps: int):
        super().__init__(name="gradient_meter")
        n = len(names)
        self.names = list(names)
        self.max_steps = max(1, int(max_steps))
        self.sums = self.add_variable((n,), "zeros", name="grad_norm_sum")            # (n,)
        self.maxes = self.add_variable((n,), "zeros", name="grad_norm_max")           # (n,)
        self.steps = self.add_variable((self.max_steps,), "zeros",
                                       name="grad_norm_steps")                # (max_steps,)
        self.count = self.add_variable((), "zeros", dtype="int32", name="grad_norm_count")

    def update_state(self, norms):
        """In the compiled step: one step's per-tensor norms `(n,)`, before clipping."""
        count = self.count.value
        self.sums.assign(self.sums.value + norms)
        self.maxes.assign(ops.maximum(self.maxes.value, norms))
        global_norm = ops.sqrt(ops.sum(ops.square(norms)))
        # steps beyond the buffer (never when it is sized to the epoch) overwrite the last
        slot = ops.minimum(count, self.max_steps - 1)
        here = ops.equal(ops.arange(self.max_steps, dtype="int32"), slot)
        self.steps.assign(ops.where(here, global_norm, self.steps.value))
        self.count.assign(count + 1)

    def result(self):
        try:  # read out after the step: numpy, which needs no compiling
            count = int(np.asarray(self.count.value))
        except Exception:  # inside a traced step (a tracer, a symbolic tensor)
            count = None
        if count is not None:
            used = min(count, self.max_steps)
            steps = np.asarray(self.steps.value)[:used]
            return np.float32(steps.sum(dtype=np.float32) / np.float32(max(used, 1)))
        used = ops.minimum(self.count.value, self.max_steps)
        total = ops.sum(ops.where(ops.arange(self.max_steps, dtype="int32") < used,
                                  self.steps.value, 0.0))
        return total / ops.cast(ops.maximum(used, 1), "float32")

    def reset_state(self) -> None:
        """Kept: Keras resets every metric before validation, mid-epoch for this meter."""

    def reset(self) -> None:
        """Start a new epoch (the recorder calls this when an epoch begins)."""
        for var in self.variables:
            var.assign(ops.zeros(var.shape, dtype=var.dtype))

    def read(self) -> EpochGradients:
        """The epoch so far, as plain Python numbers."""
        count = int(np.asarray(self.count.numpy()))
        if count == 0:
            return EpochGradients({}, [], 0)
        means = np.asarray(self.sums.numpy()) / count                 # (n,)
        maxes = np.asarray(self.maxes.numpy())                        # (n,)
        steps = np.asarray(self.steps.numpy())[:min(count, self.max_steps)]
        norms = {name: (float(m), float(x)) for name, m, x in zip(self.names, means, maxes)}
        return EpochGradients(norms, steps.astype(float).tolist(), count)

"""Gradient telemetry: per-tensor norms every step, and the gradient through time.

Two views feed the dashboard:

* **Per tensor, per step.** `GradientMeter` is a Keras metric whose variables the compiled
  training step (see `model.GradientTrackingModel`) updates on every batch: for each trainable tensor the
  sum and the max of its gradient norm over the epoch, and the global norm of every step. Norms
  are taken *before* clipping, so the views show what clipping had to tame. Because the updates
  run inside the compiled step, they cost nothing measurable.
  `gradient_norms` is the plain one-batch computation the meter is tested against.
* **Through time.** `through_time` takes a fixed probe batch and returns, for every input step
  and for the hidden-state sequence of every recurrent layer below the top one, the mean of
  |dloss/dvalue| over the batch and the feature (or unit) axis, ordered by steps back from the
  prediction: index 0 is the last input step, index lookback-1 the oldest. "layer_k" is the
  output sequence h_1..h_L of recurrent layer k (bottom layer = 1), the sequence that feeds
  layer k+1; the top layer returns only its last state, so it has no series. The probe runs in
  inference mode (no dropout) and uses the compiled loss without the weight penalties (which
  do not depend on the inputs).

Keras, TensorFlow and JAX are imported inside functions only.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from rnnlab import backend
from rnnlab.model_info import FLATTEN_NAME, LINEAR_NAME, SUM_NAME


def tensor_names(model) -> list[str]:
    """Readable names of the trainable tensors, in `model.trainable_variables` order.

    "lstm_1/kernel", "lstm_1/recurrent_kernel", "lstm_1/bias", ..., "dense/kernel", "dense/bias";
    a bidirectional layer gives "lstm_1/forward/kernel" and "lstm_1/backward/kernel".
    """
    keras = backend.keras()

    names: dict[int, str] = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            for direction, sub in (("forward", layer.forward_layer),
                                   ("backward", layer.backward_layer)):
                names.update({id(v): f"{layer.name}/{direction}/{v.name}"
                              for v in sub.trainable_variables})
        else:
            names.update({id(v): f"{layer.name}/{v.name}" for v in layer.trainable_variables})
    return [names.get(id(v), v.path) for v in model.trainable_variables]


def loss_function(model):
    """The model's compiled loss as a callable (y_true, y_pred) -> scalar mean."""
    keras = backend.keras()

    loss = model.loss
    return loss if callable(loss) else keras.losses.get(loss)


def gradient_norms(model, x, y) -> dict[str, float]:
    """L2 norm of the loss gradient for every trainable tensor on one batch, before clipping.

    Loss = the compiled loss (batch mean) + the weight penalties; inference mode (no dropout).
    Computed by the backend's own autodiff (tf.GradientTape or jax.grad), apart from the meter.
    """
    x = np.asarray(x, dtype="float32")       # (batch, lookback, n_features)
    y = np.asarray(y, dtype="float32")       # (batch, horizon)
    if backend.active() == "jax":
        grads = _jax_weight_grads(model, x, y)
    else:
        grads = _tf_weight_grads(model, x, y)
    return {name: float(np.linalg.norm(np.asarray(g))) for name, g in
            zip(tensor_names(model), grads)}


def _tf_weight_grads(model, x, y) -> list:
    import tensorflow as tf

    with tf.GradientTape() as tape:
        y_pred = model(tf.constant(x), training=False)        # (batch, horizon)
        loss = loss_function(model)(y, y_pred)
        if model.losses:
            loss = loss + tf.add_n([tf.reduce_sum(p) for p in model.losses])
    return tape.gradient(loss, model.trainable_variables)


def _jax_weight_grads(model, x, y) -> list:
    import jax

    loss_fn = loss_function(model)
    non_trainable = [v.value for v in model.non_trainable_variables]

    def total_loss(trainable):
        y_pred, _, losses = model.stateless_call(trainable, non_trainable, x, training=False,
                                                 return_losses=True)
        return loss_fn(y, y_pred) + sum(jax.numpy.sum(p) for p in losses)

    return jax.grad(total_loss)([v.value for v in model.trainable_variables])


# -- through time -------------------------------------------------------------------------------

_PROBES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def recurrent_layers(model) -> list:
    """The model's recurrent layers (plain or bidirectional), bottom to top."""
    keras = backend.keras()

    return [layer for layer in model.layers
            if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))]


def through_time_function(model, jit: bool | None = None):
    """A compiled function (x, y) -> [input series, layer_1 series, ...], cached per model.

    jit: compile with XLA (about 30 % faster per call, seconds to compile); None follows the
    model's own `jit_compile`.
    """
    if jit is None:
        jit = bool(getattr(model, "jit_compile", False))
    fns = _PROBES.setdefault(model, {})
    if jit not in fns:
        fns[jit] = _build_probe(model, jit)
    return fns[jit]


def _build_probe(model, jit: bool):
    keras = backend.keras()

    side_names = (FLATTEN_NAME, LINEAR_NAME)
    # the recurrent stack and its head, in order; the linear path (linear_skip) beside it
    chain = [layer for layer in model.layers
             if not isinstance(layer, keras.layers.InputLayer)
             and layer.name not in (*side_names, SUM_NAME)]
    side = [layer for name in side_names for layer in model.layers if layer.name == name]
    below_top = {id(layer) for layer in recurrent_layers(model)[:-1]}
    loss_fn = loss_function(model)
    if backend.active() == "jax":
        return _jax_probe(chain, side, below_top, loss_fn, jit)
    return _tf_probe(chain, side, below_top, loss_fn, jit)


def _tf_probe(chain, side, below_top, loss_fn, jit: bool):
    import tensorflow as tf

    @tf.function(reduce_retracing=True, jit_compile=jit)
    def probe(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)                                     # (batch, lookback, n_features)
            h, hidden = x, []
            for layer in chain:
                h = layer(h, training=False)
                if id(layer) in below_top:
                    hidden.append(h)                          # (batch, lookback, units)
            if side:                                          # + the linear path's forecast
                flat, linear = side
                h = h + linear(flat(x))                       # (batch, horizon), no dropout
            loss = loss_fn(y, h)
        grads = tape.gradient(loss, [x, *hidden])
        # mean over batch and features, then reverse so index 0 is the nearest step
        return [tf.reverse(tf.reduce_mean(tf.abs(g), axis=[0, 2]), axis=[0]) for g in grads]

    return lambda x, y: [s.numpy() for s in probe(tf.constant(x), tf.constant(y))]


def _jax_probe(chain, side, below_top, loss_fn, jit: bool):
    """jax.grad of the loss with respect to the input and to a zero added to each hidden sequence.

    The weights are arguments (read from the layers at each call), never constants of the trace.
    """
    import jax
    import jax.numpy as jnp

    def loss_of(weights, x, y, shifts):
        h, k = x, 0                                           # (batch, lookback, n_features)
        for layer, (trainable, non_trainable) in zip(chain, weights):
            h, _ = layer.stateless_call(trainable, non_trainable, h, training=False)
            if id(layer) in below_top:
                h = h + shifts[k]                             # (batch, lookback, units)
                k += 1
        if side:                                              # + the linear path's forecast
            s = x
            for layer, (trainable, non_trainable) in zip(side, weights[len(chain):]):
                s, _ = layer.stateless_call(trainable, non_trainable, s)  # no dropout here
            h = h + s                                         # (batch, horizon)
        return loss_fn(y, h)

    def series(weights, x, y, shifts):
        gx, gh = jax.grad(loss_of, argnums=(1, 3))(weights, x, y, shifts)
        # mean over batch and features, then reverse so index 0 is the nearest step
        return [jnp.mean(jnp.abs(g), axis=(0, 2))[::-1] for g in [gx, *gh]]

    fn = jax.jit(series)          # always: op-by-op JAX is far slower than one compile
    shapes = [tuple(layer.output.shape[1:]) for layer in chain if id(layer) in below_top]

    def probe(x, y):
        weights = [([v.value for v in layer.trainable_variables],
                    [v.value for v in layer.non_trainable_variables]) for layer in chain + side]
        shifts = [jnp.zeros((len(x),) + shape, dtype=jnp.float32) for shape in shapes]
        return [np.asarray(s) for s in fn(weights, jnp.asarray(x), jnp.asarray(y), shifts)]

    return probe


def through_time(model, x_probe, y_probe, *, jit: bool | None = None) -> dict[str, list[float]]:
    """Mean |dloss/dx_t| and |dloss/dh_t| per step back: {"input": [...], "layer_1": [...], ...}."""
    x = np.asarray(x_probe, dtype="float32")     # (probe, lookback, n_features)
    y = np.asarray(y_probe, dtype="float32")     # (probe, horizon)
    series = through_time_function(model, jit)(x, y)
    keys = ["input"] + [f"layer_{k}" for k in range(1, len(series))]
    return {key: np.asarray(s).astype(float).tolist() for key, s in zip(keys, series)}


# -- per-step accumulators ----------------------------------------------------------------------

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


_METER_CLASS = None


def gradient_meter(names: list[str], max_steps: int):
    """A new GradientMeter for tensors `names` and epochs of up to `max_steps` steps."""
    global _METER_CLASS
    if _METER_CLASS is None:
        _METER_CLASS = _define_meter()
    return _METER_CLASS(names, max_steps)


def _define_meter():
    keras = backend.keras()
    from keras import ops

    class GradientMeter(keras.metrics.Metric):
        """Per-tensor sum/max of the gradient norm and the global norm of every step.

        A Keras metric, so its variables live in the training state on every backend (on JAX
        the step updates them statelessly). Keras' own resets are ignored (it resets metrics
        before validation too); `reset` starts an epoch. Its result is the mean global norm.
        """

        def __init__(self, names: list[str], max_steps: int):
            super().__init__(name="gradient_meter")
            n = len(names)
            self.names = list(names)
            self.max_steps = max(1, int(max_steps))
            self.sums = self.add_variable((n,), "zeros", name="grad_norm_sum")        # (n,)
            self.maxes = self.add_variable((n,), "zeros", name="grad_norm_max")       # (n,)
            self.steps = self.add_variable((self.max_steps,), "zeros",
                                           name="grad_norm_steps")            # (max_steps,)
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
            means = np.asarray(self.sums.numpy()) / count             # (n,)
            maxes = np.asarray(self.maxes.numpy())                    # (n,)
            steps = np.asarray(self.steps.numpy())[:min(count, self.max_steps)]
            norms = {name: (float(m), float(x))
                     for name, m, x in zip(self.names, means, maxes)}
            return EpochGradients(norms, steps.astype(float).tolist(), count)

    return GradientMeter


def norms_of(grads):
    """Stacked L2 norms `(n,)` of a list of gradient tensors."""
    from keras import ops

    return ops.stack([ops.sqrt(ops.sum(ops.square(g))) for g in grads])


def clip_gradients(grads: list, norms, clipnorm: float | None, clipvalue: float | None) -> list:
    """In the compiled step: clip each tensor's gradient by value, then by norm, like Keras does.

    `norms` (n,) are the gradients' norms before clipping. Keras allows only one of the two; when
    both are set, the value clip runs first and the norm clip sees the value-clipped gradient.
    """
    from keras import ops

    if clipvalue:
        grads = [ops.clip(g, -clipvalue, clipvalue) for g in grads]
        norms = norms_of(grads)
    if clipnorm:
        scales = clipnorm / ops.maximum(norms, clipnorm)  # (n,) 1 where the norm is within bounds
        grads = [g * scales[i] for i, g in enumerate(grads)]
    return grads

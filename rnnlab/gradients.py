"""Gradient telemetry: per-tensor norms every step, and the gradient through time.

Two views feed the dashboard:

* **Per tensor, per step.** `GradientMeter` keeps TensorFlow variables that the compiled training
  step (see `model.GradientTrackingModel`) updates on every batch: for each trainable tensor the
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

TensorFlow is imported inside functions only.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np


def tensor_names(model) -> list[str]:
    """Readable names of the trainable tensors, in `model.trainable_variables` order.

    "lstm_1/kernel", "lstm_1/recurrent_kernel", "lstm_1/bias", ..., "dense/kernel", "dense/bias";
    a bidirectional layer gives "lstm_1/forward/kernel" and "lstm_1/backward/kernel".
    """
    import keras

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
    import keras

    loss = model.loss
    return loss if callable(loss) else keras.losses.get(loss)


def gradient_norms(model, x, y) -> dict[str, float]:
    """L2 norm of the loss gradient for every trainable tensor on one batch, before clipping.

    Loss = the compiled loss (batch mean) + the weight penalties; inference mode (no dropout).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(x, dtype="float32"))  # (batch, lookback, n_features)
    y = tf.convert_to_tensor(np.asarray(y, dtype="float32"))  # (batch, horizon)
    with tf.GradientTape() as tape:
        y_pred = model(x, training=False)                     # (batch, horizon)
        loss = loss_function(model)(y, y_pred)
        if model.losses:
            loss = loss + tf.add_n([tf.reduce_sum(p) for p in model.losses])
    grads = tape.gradient(loss, model.trainable_variables)
    return {name: float(tf.norm(g)) for name, g in zip(tensor_names(model), grads)}


# -- through time -------------------------------------------------------------------------------

_PROBES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def recurrent_layers(model) -> list:
    """The model's recurrent layers (plain or bidirectional), bottom to top."""
    import keras

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
    import keras
    import tensorflow as tf

    chain = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    below_top = {id(layer) for layer in recurrent_layers(model)[:-1]}
    loss_fn = loss_function(model)

    @tf.function(reduce_retracing=True, jit_compile=jit)
    def probe(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)                                     # (batch, lookback, n_features)
            h, hidden = x, []
            for layer in chain:
                h = layer(h, training=False)
                if id(layer) in below_top:
                    hidden.append(h)                          # (batch, lookback, units)
            loss = loss_fn(y, h)
        grads = tape.gradient(loss, [x, *hidden])
        # mean over batch and features, then reverse so index 0 is the nearest step
        return [tf.reverse(tf.reduce_mean(tf.abs(g), axis=[0, 2]), axis=[0]) for g in grads]

    return probe


def through_time(model, x_probe, y_probe, *, jit: bool | None = None) -> dict[str, list[float]]:
    """Mean |dloss/dx_t| and |dloss/dh_t| per step back: {"input": [...], "layer_1": [...], ...}."""
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(x_probe, dtype="float32"))  # (probe, lookback, n_features)
    y = tf.convert_to_tensor(np.asarray(y_probe, dtype="float32"))  # (probe, horizon)
    series = through_time_function(model, jit)(x, y)
    keys = ["input"] + [f"layer_{k}" for k in range(1, len(series))]
    return {key: s.numpy().astype(float).tolist() for key, s in zip(keys, series)}


# -- per-step accumulators ----------------------------------------------------------------------

@dataclass(frozen=True)
class EpochGradients:
    """One epoch of gradient telemetry, read from a GradientMeter."""

    tensor_norms: dict[str, tuple[float, float]]   # name -> (mean over steps, max over steps)
    step_norms: list[float]                        # global norm of every step, in order
    steps: int

    @property
    def global_mean(self) -> float | None:
        """Mean of the global norm over the epoch's steps."""
        return float(np.mean(self.step_norms)) if self.step_norms else None

    @property
    def global_max(self) -> float | None:
        """Largest global norm of the epoch."""
        return float(np.max(self.step_norms)) if self.step_norms else None


class GradientMeter:
    """TensorFlow variables the compiled step updates: per-tensor sum/max and per-step norms."""

    def __init__(self, names: list[str], max_steps: int):
        import tensorflow as tf

        n = len(names)
        self.names = list(names)
        self.max_steps = max(1, int(max_steps))
        self.sums = tf.Variable(tf.zeros([n]), trainable=False, name="grad_norm_sum")    # (n,)
        self.maxes = tf.Variable(tf.zeros([n]), trainable=False, name="grad_norm_max")   # (n,)
        self.steps = tf.Variable(tf.zeros([self.max_steps]), trainable=False,
                                 name="grad_norm_steps")                       # (max_steps,)
        self.count = tf.Variable(0, dtype=tf.int32, trainable=False, name="grad_norm_count")

    def record(self, norms) -> None:
        """In the compiled step: add one step's per-tensor norms `(n,)` (before clipping)."""
        import tensorflow as tf

        self.sums.assign_add(norms)
        self.maxes.assign(tf.maximum(self.maxes, norms))
        global_norm = tf.sqrt(tf.reduce_sum(tf.square(norms)))
        # steps beyond the buffer (never with the buffer sized to the epoch) overwrite the last slot
        slot = tf.minimum(self.count, self.max_steps - 1)
        self.steps.scatter_nd_update(tf.reshape(slot, [1, 1]), tf.reshape(global_norm, [1]))
        self.count.assign_add(1)

    def reset(self) -> None:
        """Start a new epoch."""
        for var in (self.sums, self.maxes, self.steps):
            var.assign(_zeros_like(var))
        self.count.assign(0)

    def read(self) -> EpochGradients:
        """The epoch so far, as plain Python numbers."""
        count = int(self.count.numpy())
        if count == 0:
            return EpochGradients({}, [], 0)
        means = self.sums.numpy() / count                   # (n,)
        maxes = self.maxes.numpy()                          # (n,)
        steps = self.steps.numpy()[:min(count, self.max_steps)]
        norms = {name: (float(m), float(x)) for name, m, x in zip(self.names, means, maxes)}
        return EpochGradients(norms, steps.astype(float).tolist(), count)


def _zeros_like(var):
    """Zeros of a variable's shape and dtype."""
    import tensorflow as tf

    return tf.zeros(var.shape, dtype=var.dtype)


def clip_gradients(grads: list, norms, clipnorm: float | None, clipvalue: float | None) -> list:
    """In the compiled step: clip each tensor's gradient by value, then by norm, like Keras does.

    `norms` (n,) are the gradients' norms before clipping. Keras allows only one of the two; when
    both are set, the value clip runs first and the norm clip sees the value-clipped gradient.
    """
    import tensorflow as tf

    if clipvalue:
        grads = [tf.clip_by_value(g, -clipvalue, clipvalue) for g in grads]
        norms = tf.stack([tf.norm(g) for g in grads])
    if clipnorm:
        scales = clipnorm / tf.maximum(norms, clipnorm)    # (n,) 1 where the norm is within bounds
        grads = [g * scales[i] for i, g in enumerate(grads)]
    return grads

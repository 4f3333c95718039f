"""Gradient telemetry outside the training step: per-tensor norms and the gradient through time.

* **Per tensor, one batch.** `gradient_norms` is the plain computation of the loss gradient's
  norm for every trainable tensor, by the backend's own autodiff: the oracle the gradient meter
  (`rnnlab.nn.meter`, updated inside the compiled step) is tested against. `tensor_names` gives
  the tensors' readable names, in the order the meter and the store keep them.
* **Through time.** `through_time` takes a fixed probe batch and returns, for every input step
  and for the hidden-state sequence of every recurrent layer below the top one, the mean of
  |dloss/dvalue| over the batch and the feature (or unit) axis, ordered by steps back from the
  prediction: index 0 is the last input step, index lookback-1 the oldest. "layer_k" is the
  output sequence h_1..h_L of recurrent layer k (bottom layer = 1), the sequence that feeds
  layer k+1; the top layer returns only its last state, so it has no series. The probe runs in
  inference mode (no dropout) and uses the compiled loss without the weight penalties (which
  do not depend on the inputs).

TensorFlow and JAX are imported inside functions, for the backend in use.
"""

from __future__ import annotations

import weakref

import numpy as np

from rnnlab import backend
from rnnlab.model_info import FLATTEN_NAME, LINEAR_NAME, SUM_NAME

keras = backend.keras()


def tensor_names(model) -> list[str]:
    """Readable names of the trainable tensors, in `model.trainable_variables` order.

    "lstm_1/kernel", "lstm_1/recurrent_kernel", "lstm_1/bias", ..., "dense/kernel", "dense/bias";
    a bidirectional layer gives "lstm_1/forward/kernel" and "lstm_1/backward/kernel".
    """
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

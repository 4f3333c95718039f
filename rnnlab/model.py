"""Build the Keras model of a run from its ModelConfig and TrainConfig.

Input (lookback, n_features) -> n_layers recurrent layers (SimpleRNN, GRU or LSTM, optionally
bidirectional; every layer but the top returns its whole sequence), each followed by a Dropout
layer when its rate is > 0, as in the classic stacked-LSTM tutorial -> Dense(horizon).

The model is a `GradientTrackingModel`: a functional Keras model whose training step records
gradient norms before clipping (see `rnnlab.gradients`) and then clips them itself, so the
optimizer carries no clipnorm/clipvalue of its own. `plain_model` gives the same layers as a
standard Keras functional model, for files that must load anywhere without rnnlab.

Keras (on JAX or TensorFlow, see `rnnlab.backend`) is imported inside functions only.
"""

from __future__ import annotations

from rnnlab import backend
from rnnlab.config import ModelConfig, TrainConfig
from rnnlab.errors import ConfigError
from rnnlab.model_info import (CELL_CLASSES, FLATTEN_NAME, INPUT_NAME, LINEAR_NAME,
                               OUTPUT_NAME, SUM_NAME, dropout_name, recurrent_name)

_MODEL_CLASS = None


def build_model(model_cfg: ModelConfig, train_cfg: TrainConfig, n_features: int, *,
                jit_compile: bool = False, steps_per_execution: int = 1):
    """A compiled GradientTrackingModel for the config; sizes from the data fill `n_features`.

    jit_compile (XLA) and steps_per_execution are chosen per run by `train.execution_plan`.
    """
    keras = backend.keras()      # on JAX this also plugs in rnnlab.kernels' LSTM and GRU loops

    if model_cfg.cell not in CELL_CLASSES:
        raise ConfigError(f"cell={model_cfg.cell!r} is not a Keras recurrent cell; an echo state "
                          "network is trained by rnnlab.esn, not build_model.")
    if not isinstance(n_features, int) or n_features < 1:
        raise ConfigError(f"n_features must be >= 1. Received: n_features={n_features!r}")
    inputs = keras.Input((model_cfg.lookback, n_features), name=INPUT_NAME)  # (batch, lookback, F)
    h = inputs
    for i in range(1, model_cfg.n_layers + 1):
        h = _recurrent_layer(model_cfg, i)(h)      # (batch, lookback, units) or (batch, units)
        rate = model_cfg.dropout_per_layer[i - 1]
        if rate > 0:
            h = keras.layers.Dropout(rate, name=dropout_name(i))(h)
    if model_cfg.linear_skip:
        # the network starts at the linear path's forecast and learns what to add to it
        head = keras.layers.Dense(model_cfg.horizon, kernel_initializer="zeros",
                                  name=OUTPUT_NAME)(h)                     # (batch, horizon)
        flat = keras.layers.Flatten(name=FLATTEN_NAME)(inputs)              # (batch, L·F)
        linear = keras.layers.Dense(model_cfg.horizon, name=LINEAR_NAME)(flat)  # (batch, H)
        outputs = keras.layers.Add(name=SUM_NAME)([head, linear])           # (batch, horizon)
    else:
        outputs = keras.layers.Dense(model_cfg.horizon, name=OUTPUT_NAME)(h)  # (batch, horizon)
    model = model_class()(inputs, outputs, name=f"{model_cfg.cell}_model")
    compile_model(model, train_cfg, jit_compile=jit_compile,
                  steps_per_execution=steps_per_execution)
    return model


def start_linear_skip(model, x, y) -> None:
    """Set the linear path to the least-squares fit of y (n, H) on the windows x (n, L, F).

    With the head's kernel at zero, the untrained model then forecasts exactly what the linear
    autoregression baseline (`evaluate.linear_ar`) forecasts; training moves both paths.
    """
    from rnnlab.evaluate import fit_linear

    coef = fit_linear(x, y)                                                 # (L·F + 1, H)
    layer = model.get_layer(LINEAR_NAME)
    layer.set_weights([coef[:-1].astype("float32"), coef[-1].astype("float32")])


def _recurrent_layer(model_cfg: ModelConfig, index: int):
    """Recurrent layer `index` (1-based), wrapped in Bidirectional when asked."""
    keras = backend.keras()

    i = index - 1
    layer_cls = getattr(keras.layers, CELL_CLASSES[model_cfg.cell])
    penalty = _penalty(model_cfg.l1, model_cfg.l2)
    name = recurrent_name(model_cfg.cell, index)
    layer = layer_cls(
        model_cfg.units_per_layer[i],
        return_sequences=index < model_cfg.n_layers,
        recurrent_dropout=model_cfg.recurrent_dropout_per_layer[i],
        kernel_initializer=initializer(model_cfg.kernel_initializer, model_cfg.init_scale),
        recurrent_initializer=initializer(model_cfg.recurrent_initializer, model_cfg.init_scale),
        kernel_regularizer=penalty,
        recurrent_regularizer=_penalty(model_cfg.l1, model_cfg.l2),
        name=name,
    )
    return keras.layers.Bidirectional(layer, name=name) if model_cfg.bidirectional else layer


def initializer(name: str, scale: float = 1.0):
    """A Keras initializer from its registry name; `scale` is the gain or the std."""
    keras = backend.keras()

    makers = {
        "glorot_uniform": lambda: keras.initializers.GlorotUniform(),
        "orthogonal": lambda: keras.initializers.Orthogonal(gain=scale),
        "identity": lambda: keras.initializers.Identity(gain=scale),
        "random_normal": lambda: keras.initializers.RandomNormal(stddev=scale),
    }
    if name not in makers:
        raise ConfigError(f"initializer must be one of {', '.join(makers)}. Received: {name!r}")
    return makers[name]()


def _penalty(l1: float, l2: float):
    keras = backend.keras()

    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


def optimizer(train_cfg: TrainConfig, *, with_clipping: bool = False):
    """A fresh Keras optimizer; clipping is left to the training step unless asked for."""
    keras = backend.keras()

    classes = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
               "rmsprop": keras.optimizers.RMSprop}
    kwargs = {"learning_rate": train_cfg.learning_rate}
    if with_clipping:  # Keras accepts only one of the two
        if train_cfg.clipnorm:
            kwargs["clipnorm"] = train_cfg.clipnorm
        elif train_cfg.clipvalue:
            kwargs["clipvalue"] = train_cfg.clipvalue
    return classes[train_cfg.optimizer](**kwargs)


def loss(name: str):
    """A Keras loss object from its registry name.

    Its batch mean is weighted by the sample weights (without weights, the plain mean): the
    zero-weight rows that pad the last batch on JAX (see `train.pad_to_batches`) then count
    for nothing.
    """
    keras = backend.keras()

    losses = {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError,
              "huber": keras.losses.Huber}
    if name not in losses:
        raise ConfigError(f"loss must be one of {', '.join(losses)}. Received: {name!r}")
    return losses[name](reduction="mean_with_sample_weight")


def compile_model(model, train_cfg: TrainConfig, *, jit_compile: bool = False,
                  steps_per_execution: int = 1) -> None:
    """Compile with the run's optimizer and loss; clipping and tracking go to the training step."""
    model.compile(optimizer=optimizer(train_cfg), loss=loss(train_cfg.loss),
                  jit_compile=jit_compile, steps_per_execution=steps_per_execution)
    model.configure_tracking(clipnorm=train_cfg.clipnorm, clipvalue=train_cfg.clipvalue,
                             track=train_cfg.track_gradients)


def plain_model(model):
    """The same layers (shared weights) as a standard keras.Model, loadable without rnnlab."""
    keras = backend.keras()

    return keras.Model(model.inputs, model.outputs, name=model.name)


def describe(model) -> tuple[list[dict], int]:
    """Rows of {layer, kind, output_shape, params} bottom to top (no input row), and the total."""
    keras = backend.keras()

    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        kind = type(layer).__name__
        if isinstance(layer, keras.layers.Bidirectional):
            kind = f"Bidirectional({type(layer.forward_layer).__name__})"
        rows.append({"layer": layer.name, "kind": kind,
                     "output_shape": tuple(layer.output.shape),
                     "params": int(layer.count_params())})
    return rows, int(model.count_params())


def model_class():
    """The GradientTrackingModel class (defined on first use, so Keras loads lazily)."""
    global _MODEL_CLASS
    if _MODEL_CLASS is None:
        _MODEL_CLASS = _define_model_class()
    return _MODEL_CLASS


def _define_model_class():
    keras = backend.keras()
    from keras import ops

    from rnnlab import gradients

    on_jax = backend.active() == "jax"

    @keras.saving.register_keras_serializable(package="rnnlab")
    class GradientTrackingModel(keras.Model):
        """A functional model whose compiled training step records gradient norms, then clips.

        Per step: gradients (tf.GradientTape or jax.grad) -> per-tensor L2 norms (n_tensors,)
        -> the meter (sum/max per tensor, global norm per step) -> clip by value / by norm ->
        apply. On JAX the step is stateless: the meter's variables travel in the metrics state.
        """

        _clipnorm = None
        _clipvalue = None
        _track_norms = True
        meter = None

        def configure_tracking(self, *, clipnorm=None, clipvalue=None, track=True) -> None:
            """Set clipping and whether norms are recorded (before the first fit)."""
            self._clipnorm = float(clipnorm) if clipnorm else None
            self._clipvalue = float(clipvalue) if clipvalue else None
            self._track_norms = bool(track)
            self.train_function = None

        def start_meter(self, max_steps: int):
            """Create the per-epoch gradient accumulators, sized for `max_steps` steps."""
            if self.meter is None:
                self.meter = gradients.gradient_meter(gradients.tensor_names(self), max_steps)
            self.train_function = None
            return self.meter

        @property
        def _tracking(self) -> bool:
            return self._track_norms and self.meter is not None

        def train_step(self, *args):
            return self._jax_train_step(*args) if on_jax else self._tf_train_step(*args)

        def _tf_train_step(self, data):
            import tensorflow as tf

            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)                      # (batch, horizon)
                loss = self._compute_loss(x=x, y=y, y_pred=y_pred,
                                          sample_weight=sample_weight, training=True)
                # the same loss bookkeeping as Keras' own TensorFlow train_step
                self._loss_tracker.update_state(loss, sample_weight=tf.shape(x)[0])
                scaled = self.optimizer.scale_loss(loss)
            variables = self.trainable_variables
            grads = tape.gradient(scaled, variables)
            grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                     for g, v in zip(grads, variables)]
            norms = gradients.norms_of(grads)                         # (n_tensors,)
            if self._tracking:
                self.meter.update_state(norms)
            grads = gradients.clip_gradients(grads, norms, self._clipnorm, self._clipvalue)
            self.optimizer.apply_gradients(zip(grads, variables))
            return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

        def _jax_train_step(self, state, data):
            import jax

            trainable, non_trainable, optimizer_vars, metrics_vars = state
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (_, aux), grads = grad_fn(trainable, non_trainable, metrics_vars, x, y,
                                      sample_weight, training=True,
                                      optimizer_variables=optimizer_vars)
            loss, y_pred, non_trainable, metrics_vars = aux
            norms = gradients.norms_of(grads)                         # (n_tensors,)
            grads = gradients.clip_gradients(grads, norms, self._clipnorm, self._clipvalue)
            trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads,
                                                                       trainable)
            # the same loss bookkeeping as Keras' own JAX train_step, plus the meter
            mapping = list(zip(self.metrics_variables, metrics_vars))
            with keras.StatelessScope(state_mapping=mapping) as scope:
                if self._tracking:
                    self.meter.update_state(norms)
                rows = ops.shape(x)[0] if sample_weight is None else ops.sum(sample_weight)
                self._loss_tracker.update_state(loss, sample_weight=rows)
                logs = self.compute_metrics(x, y, y_pred, sample_weight)
            metrics_vars = [scope.get_current_value(ref) for ref, _ in mapping]
            return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)

    return GradientTrackingModel

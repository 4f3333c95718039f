"""Build the Keras model of a run from its ModelConfig and TrainConfig.

Input (lookback, n_features) -> n_layers recurrent layers (SimpleRNN, GRU or LSTM, optionally
bidirectional; every layer but the top returns its whole sequence), each followed by a Dropout
layer when its rate is > 0, as in the classic stacked-LSTM tutorial -> Dense(horizon).

The model is a `GradientTrackingModel` (`rnnlab.nn.tracking`): a functional Keras model whose
training step records gradient norms before clipping and then clips them itself, so the
optimizer carries no clipnorm/clipvalue of its own. `plain_model` gives the same layers as a
standard Keras functional model, for files that must load anywhere without rnnlab.
"""

from __future__ import annotations

from rnnlab import backend, cells
from rnnlab.config import ModelConfig, TrainConfig
from rnnlab.errors import ConfigError
from rnnlab.model_info import (FLATTEN_NAME, INPUT_NAME, LINEAR_NAME, OUTPUT_NAME, SUM_NAME,
                               dropout_name, recurrent_name)
from rnnlab.nn.tracking import GradientTrackingModel

keras = backend.keras()     # on JAX this also plugs in rnnlab.nn.kernels' LSTM and GRU loops


def build_model(model_cfg: ModelConfig, train_cfg: TrainConfig, n_features: int, *,
                jit_compile: bool = False, steps_per_execution: int = 1):
    """A compiled GradientTrackingModel for the config; sizes from the data fill `n_features`.

    jit_compile (XLA) and steps_per_execution are chosen per run by `rnnlab.train.execution_plan`.
    """
    if cells.get(model_cfg.cell).keras_class is None:
        raise ConfigError(f"cell={model_cfg.cell!r} is not a Keras recurrent cell; an echo state "
                          "network is trained by rnnlab.nn.esn, not build_model.")
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
    model = GradientTrackingModel(inputs, outputs, name=f"{model_cfg.cell}_model")
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
    i = index - 1
    layer_cls = getattr(keras.layers, cells.get(model_cfg.cell).keras_class)
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
    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


def optimizer(train_cfg: TrainConfig, *, with_clipping: bool = False):
    """A fresh Keras optimizer; clipping is left to the training step unless asked for."""
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
    zero-weight rows that pad the last batch on JAX (see `rnnlab.train.pad_to_batches`) then count
    for nothing.
    """
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
    return keras.Model(model.inputs, model.outputs, name=model.name)


def describe(model) -> tuple[list[dict], int]:
    """Rows of {layer, kind, output_shape, params} bottom to top (no input row), and the total."""
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

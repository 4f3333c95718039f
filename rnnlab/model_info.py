"""What a model built from a ModelConfig looks like, without TensorFlow.

The web process cannot import TensorFlow, yet it shows the layer table and the parameter count
before a run starts. This module computes both in plain Python, with the same layer names
`rnnlab.nn.model.build_model` gives the Keras layers; a slow test checks it against Keras' own
counts.
"""

from __future__ import annotations

from rnnlab import cells
from rnnlab.config import ModelConfig

CELL_CLASSES = cells.keras_classes()     # cell key -> keras.layers class name


def recurrent_name(cell: str, index: int) -> str:
    """Name of recurrent layer `index` (1-based, bottom to top): "lstm_1", "gru_2", ..."""
    return f"{cell}_{index}"


def dropout_name(index: int) -> str:
    """Name of the Dropout layer after recurrent layer `index`: "dropout_1", ..."""
    return f"dropout_{index}"


OUTPUT_NAME = "dense"
INPUT_NAME = "input"
# the linear path of `ModelConfig.linear_skip`: the flattened window -> Dense(horizon), added to
# the recurrent stack's Dense head
FLATTEN_NAME = "window_flat"
LINEAR_NAME = "linear_skip"
SUM_NAME = "forecast"


def cell_params(cell: str, units: int, n_inputs: int) -> int:
    """Trainable parameters of one (unidirectional) recurrent layer with `n_inputs` inputs."""
    spec = cells.get(cell)       # weight blocks per gate: inputs, state, bias vectors
    return spec.gates * units * (n_inputs + units + spec.bias_vectors)


def layer_table(model_cfg: ModelConfig, n_features: int) -> list[dict]:
    """Rows of {layer, kind, output_shape, params}, bottom to top, as `nn.model.describe` gives."""
    if cells.get(model_cfg.cell).keras_class is None:
        return _esn_table(model_cfg, n_features)
    rows, width = [], n_features
    directions = 2 if model_cfg.bidirectional else 1
    units = model_cfg.units_per_layer
    for i, (u, rate) in enumerate(zip(units, model_cfg.dropout_per_layer), start=1):
        top = i == model_cfg.n_layers
        out_width = u * directions
        shape = (None, out_width) if top else (None, model_cfg.lookback, out_width)
        kind = CELL_CLASSES[model_cfg.cell]
        rows.append({"layer": recurrent_name(model_cfg.cell, i),
                     "kind": f"Bidirectional({kind})" if directions == 2 else kind,
                     "output_shape": shape,
                     "params": directions * cell_params(model_cfg.cell, u, width)})
        if rate > 0:
            rows.append({"layer": dropout_name(i), "kind": "Dropout", "output_shape": shape,
                         "params": 0})
        width = out_width
    horizon = model_cfg.horizon
    head = {"layer": OUTPUT_NAME, "kind": "Dense", "output_shape": (None, horizon),
            "params": width * horizon + horizon}
    if not model_cfg.linear_skip:
        return rows + [head]
    flat = model_cfg.lookback * n_features   # Keras lists the layers in this order
    return rows + [{"layer": FLATTEN_NAME, "kind": "Flatten", "output_shape": (None, flat),
                    "params": 0},
                   head,
                   {"layer": LINEAR_NAME, "kind": "Dense", "output_shape": (None, horizon),
                    "params": flat * horizon + horizon},
                   {"layer": SUM_NAME, "kind": "Add", "output_shape": (None, horizon),
                    "params": 0}]


def _esn_table(model_cfg: ModelConfig, n_features: int) -> list[dict]:
    """An echo state network: a fixed reservoir and a trained linear readout."""
    n = model_cfg.reservoir_size
    return [
        {"layer": "reservoir", "kind": "Reservoir (fixed)", "output_shape": (None, n), "params": 0},
        {"layer": "readout", "kind": "Ridge readout", "output_shape": (None, model_cfg.horizon),
         "params": (n + n_features + 1) * model_cfg.horizon},
    ]


def estimate_params(model_cfg: ModelConfig, n_features: int) -> int:
    """Trainable parameters of the model `build_model` makes (equal to Keras' count_params)."""
    return sum(row["params"] for row in layer_table(model_cfg, n_features))

"""A run's settings in plain sentences (data, network, training), as the report states them."""

from __future__ import annotations

from pathlib import Path

from rnnlab import cells
from rnnlab import samples
from rnnlab.config import CELL_LABELS, TRANSFORM_LABELS, RunConfig

SCALING_WORDS = {"minmax": "min-max to the range 0 to 1", "standard": "standardised (mean 0, "
                 "standard deviation 1)", "none": "not scaled"}
FILL_WORDS = {"interpolate": "filled in by straight lines between their neighbours",
              "ffill": "filled with the last known value", "drop": "dropped (the row goes)"}
OPTIMIZER_WORDS = {"adam": "Adam", "sgd": "plain stochastic gradient descent (SGD)",
                   "rmsprop": "RMSprop"}
LOSS_WORDS = {"mse": "mean squared error", "mae": "mean absolute error",
              "huber": "Huber (squared for small errors, absolute for large ones)"}


def settings_words(cfg: RunConfig) -> list[tuple[str, list[str]]]:
    """The run's settings as plain sentences: data, network, training."""
    d, m, t = cfg.data, cfg.model, cfg.train
    data = [f"Forecast {d.target or 'the first numeric column'} from "
            f"{source_words(d.source)}."]
    if d.test_source:
        val = (f"the last {d.val_fraction:.0%} of the training file validate" if d.val_fraction
               else "there is no validation part")
        data.append(f"Test on the later rows of the separate file {source_words(d.test_source)}; "
                    f"{val}.")
    else:
        data.append(f"The last {d.test_fraction:.0%} of the rows test the model and the "
                    f"{d.val_fraction:.0%} before them validate it; the rest train it (in time "
                    "order, never shuffled).")
    if d.features:
        data.append(f"Other inputs: {', '.join(d.features)}.")
    data.append(f"Values {SCALING_WORDS.get(d.scaling, d.scaling)}, fitted on the training rows "
                "only.")
    data.append(f"Missing values {FILL_WORDS.get(d.fill, d.fill)}; text columns "
                f"{'one-hot encoded' if d.categorical == 'onehot' else 'left out'}.")
    data.append(f"What the network learns: {TRANSFORM_LABELS.get(d.transform, d.transform)}.")
    if d.season:
        data.append(f"One season is {d.season} rows (for the seasonal naive baseline).")
    return [("Data", data), ("Network", _network_words(m)), ("Training", _training_words(t, m))]


def _network_words(m) -> list[str]:
    window = (f"It sees the last {m.lookback} steps and predicts the next "
              + ("value." if m.horizon == 1 else f"{m.horizon} values at once."))
    if not cells.get(m.cell).stacked:
        return [f"An echo state network: a fixed random reservoir of {m.reservoir_size} units "
                f"(spectral radius {m.spectral_radius:g}, leak rate {m.leak_rate:g}, input "
                f"scaling {m.input_scaling:g}); only the linear readout is fitted, with ridge "
                f"penalty {m.ridge:g}.", window]
    units = m.units_per_layer
    cell = CELL_LABELS.get(m.cell, m.cell)
    if len(set(units)) == 1:
        shape = (f"{m.n_layers} stacked {cell} layers of {units[0]} units each"
                 if m.n_layers > 1 else f"one {cell} layer of {units[0]} units")
    else:
        shape = f"{m.n_layers} stacked {cell} layers of {', '.join(map(str, units))} units"
    lines = [shape[0].upper() + shape[1:] + (", each reading the window both forwards and "
                                              "backwards" if m.bidirectional else "")
             + ", then a dense output layer.", window]
    drops = set(m.dropout_per_layer)
    if drops != {0.0}:
        lines.append("Dropout after each layer: " + ", ".join(f"{x:g}" for x in m.dropout_per_layer)
                     + ".")
    if set(m.recurrent_dropout_per_layer) != {0.0}:
        lines.append("Recurrent dropout: " + ", ".join(f"{x:g}" for x in
                                                       m.recurrent_dropout_per_layer) + ".")
    if m.linear_skip:
        lines.append("A linear path beside the network: the output is a linear autoregression "
                     "on the window plus what the network adds to it.")
    lines.append(f"Weights start {m.kernel_initializer} (inputs) and {m.recurrent_initializer} "
                 f"(recurrent), scale {m.init_scale:g}.")
    if m.l1 or m.l2:
        lines.append(f"Weight penalties: L1 {m.l1:g}, L2 {m.l2:g}.")
    return lines


def _training_words(t, m) -> list[str]:
    if cells.get(m.cell).fitted:
        return [f"Fitted in one pass (no epochs of gradient descent); seed {t.seed}."]
    lines = [f"Up to {t.epochs} epochs in batches of {t.batch_size}.",
             f"{OPTIMIZER_WORDS.get(t.optimizer, t.optimizer)} with learning rate "
             f"{t.learning_rate:g}, minimising the {LOSS_WORDS.get(t.loss, t.loss)}."]
    clips = []
    if t.clipnorm:
        clips.append(f"the gradient's norm clipped at {t.clipnorm:g}")
    if t.clipvalue:
        clips.append(f"each gradient value clipped at {t.clipvalue:g}")
    lines.append(("With " + " and ".join(clips) + ".") if clips else "No gradient clipping.")
    lines.append(f"Early stopping after {t.early_stopping_patience} epochs without improvement."
                 if t.early_stopping_patience else "No early stopping.")
    lines.append(f"Random seed {t.seed}" + ("; gradients traced every epoch." if t.track_gradients
                                              else "; gradients not traced."))
    return lines


def source_words(source: str | None) -> str:
    if not source:
        return "unknown"
    sample = samples.SAMPLES.get(source)
    if sample is not None:
        return f"the sample {sample.title} ({source})"
    return Path(source).name

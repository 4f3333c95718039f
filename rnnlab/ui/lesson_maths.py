"""Recurrent-network maths in words and tables, without TensorFlow, for the Learn page's
lessons: the tensors a model reads and writes, and the gradient calculator's verdict."""

from __future__ import annotations

import math
from typing import Iterable

import pandas as pd

from rnnlab import config as cfgmod
from rnnlab import figures, model_info

ACTIVATION_WORDS = {"tanh": "the slope of tanh is at most 1",
                    "sigmoid": "the slope of the sigmoid is at most 0.25",
                    "relu": "the slope of ReLU is 1 where it is active, 0 elsewhere",
                    "linear": "a linear unit's slope is always 1"}
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def rnn_type(run_cfg: cfgmod.RunConfig) -> str:
    """many-to-one (one value per window) or many-to-many (H values per window)."""
    return "many-to-one" if run_cfg.model.horizon == 1 else "many-to-many"


def shape_text(shape: Iterable) -> str:
    """(None, 50, 1) -> '(batch, 50, 1)'."""
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


def tensor_shapes(runs: Iterable[tuple[str, cfgmod.RunConfig]]) -> pd.DataFrame:
    """The tensors that go in and come out of each run's model, without TensorFlow; a
    many-to-one model also gets a row for its free-running (one-to-many) use."""
    rows = []
    for label, cfg in runs:
        m, n_features = cfg.model, 1 + len(cfg.data.features)
        table = model_info.layer_table(m, n_features)
        layers = " → ".join(f"{r['layer']} {shape_text(r['output_shape'])}" for r in table)
        out = shape_text(table[-1]["output_shape"])
        rows.append({"run": label, "type": rnn_type(cfg),
                     "input": shape_text((None, m.lookback, n_features)), "layers": layers,
                     "output": out, "parameters": sum(r["params"] for r in table)})
        if m.horizon == 1:
            rows.append({"run": label, "type": "one-to-many (free-running)",
                         "input": f"one seed window {shape_text((1, m.lookback, n_features))}",
                         "layers": "the same model, step after step",
                         "output": "(1, 1) per step, fed back",
                         "parameters": rows[-1]["parameters"]})
    return pd.DataFrame(rows)


def power_words(factor: float, steps: int) -> str:
    """factor**steps for people: '0.0052', '640', '6.4 × 10⁸' (also beyond the float range)."""
    if factor == 0:
        return "0"
    exponent = steps * math.log10(factor)
    if -3 <= exponent < 4:
        return f"{10 ** exponent:.2g}"
    whole = math.floor(exponent)
    mantissa = 10 ** (exponent - whole)
    if round(mantissa, 1) >= 10:
        mantissa, whole = 1.0, whole + 1
    return f"{mantissa:.2g} × 10{str(whole).translate(SUPERSCRIPT)}"


def bptt_sentence(w: float, activation: str, steps: int) -> str:
    """The calculator's verdict in one plain sentence: vanishing (|w|·f′ < 1), exploding (> 1)
    or steady (= 1)."""
    slope = figures.ACTIVATION_SLOPE[activation]
    factor = abs(w) * slope
    step = (f"Each step back multiplies the gradient by at most |w|·f′ = {abs(w):.3g} × {slope:g} "
            f"= {factor:.3g} ({ACTIVATION_WORDS[activation]})")
    if factor == 0:
        return f"{step}, so nothing flows back, not even one step."
    total = power_words(factor, steps)
    if factor < 1:
        return (f"{step}, less than 1, so after {steps} steps only {total} of it is left: the "
                "gradient **vanishes** and the far past stops teaching the network.")
    if factor > 1:
        return (f"{step}, more than 1, so after {steps} steps it is {total} times larger: the "
                "gradient **explodes**, and without clipping the loss can become NaN.")
    return (f"{step}, exactly 1, so the gradient keeps its size however far back it travels "
            "(the idea behind the LSTM's cell state).")

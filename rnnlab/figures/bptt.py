"""A teaching chart: how a gradient shrinks or grows k steps back through time,
(|w|·f′max)^k on a log axis, vanishing below 1 and exploding above."""

from __future__ import annotations

import math
import numbers

import numpy as np
import plotly.graph_objects as go

from rnnlab.errors import ConfigError
from rnnlab.figures.axes import _fmt, _log_axis, _positive
from rnnlab.figures.spec import _figure, _hline, _Spec, _vline
from rnnlab.figures.style import COLORS


ACTIVATION_SLOPE = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}   # max |f'(x)|


def bptt_factors(w: float, activation: str, steps: int) -> np.ndarray:
    """(|w|·f'max)^k for k = 1..steps: how much a gradient can shrink or grow k steps back."""
    if activation not in ACTIVATION_SLOPE:
        raise ConfigError(f"activation must be one of {', '.join(ACTIVATION_SLOPE)}. "
                          f"Received: activation={activation!r}")
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
        raise ConfigError(f"steps must be a whole number >= 1. Received: steps={steps!r}")
    if not isinstance(w, numbers.Real) or isinstance(w, bool) or not math.isfinite(w):
        raise ConfigError(f"w must be a finite number. Received: w={w!r}")
    factor = abs(w) * ACTIVATION_SLOPE[activation]
    with np.errstate(over="ignore", under="ignore"):
        return np.power(factor, np.arange(1, steps + 1, dtype=float))  # (steps,)


def _power_text(factor: float, steps: int) -> str:
    """factor**steps as text, even far beyond the float range (8.7×10^1397)."""
    if factor == 0:
        return "0"
    exponent = steps * math.log10(factor)
    if abs(exponent) < 300:
        return _fmt(factor ** steps)
    whole = math.floor(exponent)
    return f"{10 ** (exponent - whole):.2g}×10<sup>{whole}</sup>"


def bptt_calculator_figure(w: float, activation: str, steps: int) -> go.Figure:
    """|∂h_T/∂h_{T−k}| ≈ (|w|·f'max)^k on a log axis: vanishing below 1, exploding above."""
    values = bptt_factors(w, activation, steps)         # (steps,)
    slope = ACTIVATION_SLOPE[activation]
    factor = abs(w) * slope
    verdict = "vanishing" if factor < 1 else "exploding" if factor > 1 else "steady (exactly 1)"
    k = np.arange(1, steps + 1)
    spec = _figure(f"Per-step factor |w|·f′max = {_fmt(abs(w))} × {_fmt(slope)} = "
                   f"{_fmt(factor)}: {verdict}",
                   "k: steps back through time",
                   "|∂h<sub>T</sub> / ∂h<sub>T−k</sub>| (log scale)",
                   subtitle=f"{activation}: f′ ≤ {_fmt(slope)}. After {steps} steps the "
                            f"gradient is multiplied by {_power_text(factor, steps)}",
                   showlegend=False)
    shown = _positive(values)
    lo, hi = _bptt_range(shown)
    _bptt_bands(spec, lo, hi, verdict)
    spec.traces.append(dict(type="scatter", x=k, y=shown,
                            mode="lines+markers" if steps <= 60 else "lines",
                            name="(|w|·f′)^k", line=dict(color=COLORS["model"], width=2.5),
                            hovertemplate="k = %{x}<br>factor %{y:.6~g}<extra></extra>"))
    _hline(spec, 1, dict(color="#777777", width=1, dash="dash"))
    _bptt_end_label(spec, steps, shown[-1], _power_text(factor, steps))
    _bptt_float_limit(spec, values)
    _log_axis(spec.yaxis, lo=lo, hi=hi)
    spec.yaxis["range"] = [lo, hi]
    spec.xaxis["range"] = [0, steps + max(1, steps * 0.03)]
    return spec.figure()


def _bptt_range(shown: np.ndarray) -> tuple[float, float]:
    """The y range in log10 units: all the points and 1, with some room."""
    logs = np.log10(shown[np.isfinite(shown)])
    lo = min(float(logs.min()) if logs.size else 0.0, 0.0)
    hi = max(float(logs.max()) if logs.size else 0.0, 0.0)
    pad = max(0.5, 0.08 * (hi - lo))
    return max(lo - pad, -307.0), min(hi + pad, 307.0)      # plotly cannot go past float


def _bptt_bands(spec: _Spec, lo: float, hi: float, verdict: str) -> None:
    """Shade above 1 (exploding, red) and below 1 (vanishing, blue); the verdict's band stronger."""
    one = -lo / (hi - lo)                               # where y = 1 sits, as a fraction of the plot
    for y0, y1, color, word, anchor, y_label in (
            (one, 1, "#d62728", "exploding", "bottom", 0.04),
            (0, one, "#1f77b4", "vanishing", "top", -0.04)):
        spec.shapes.append(dict(type="rect", x0=0, x1=1, xref="paper", y0=y0, y1=y1,
                                yref="paper", fillcolor=color,
                                opacity=0.12 if word == verdict else 0.04, line=dict(width=0),
                                layer="below", name=word))
        # On the right, where the curve has left the line y = 1 (log axis: log10 position).
        spec.annotations.append(dict(
            x=0.99, xref="paper", y=y_label, yref="y",
            text=f"{word} ({'>' if word == 'exploding' else '<'} 1 per step)", showarrow=False,
            xanchor="right", yanchor=anchor, font=dict(color=color, size=13), name=word))


def _bptt_end_label(spec: _Spec, steps: int, last: float, text: str) -> None:
    """The value at the last step, written next to the last point (log axis: log10 position)."""
    if not np.isfinite(last):
        return
    spec.annotations.append(dict(
        x=steps, y=math.log10(last), xref="x", yref="y", text=f"k = {steps}: {text}",
        showarrow=True, arrowhead=0, ax=-50, ay=35 if last < 1 else -35, xanchor="right",
        font=dict(size=13, color=COLORS["model"]),
        name="last value"))


def _bptt_float_limit(spec: _Spec, values: np.ndarray) -> None:
    """Where (|w|f')^k leaves the float64 range: what a computer does with it (inf or 0)."""
    gone = ~(np.isfinite(values) & (values > 0))
    if not gone.any():
        return
    if np.all(values == 0):                             # w = 0, not an underflow
        spec.annotations.append(dict(x=0.5, y=0.5, xref="paper", yref="paper", name="float limit",
                                     text="w = 0: nothing flows back, not even one step",
                                     showarrow=False, font=dict(size=16, color=COLORS["clip"])))
        return
    k = int(np.argmax(gone)) + 1
    text = (f"from k = {k} the number is too big<br>for a float (> 1.8×10<sup>308</sup>):<br>"
            "training would see inf, then NaN" if np.isinf(values[k - 1]) else
            f"from k = {k} the number is too small<br>for a float: it becomes exactly 0")
    _vline(spec, k, text, color=COLORS["clip"], dash="dot", side="left" if k > len(values) / 2
           else "right", name="float limit")

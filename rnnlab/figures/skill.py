"""Scores side by side: one run's error beside its baselines', and skill vs naive across a
sweep's grid, groups of runs, a backtest's folds and a class's students."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from rnnlab.figures.axes import _fmt
from rnnlab.figures.spec import _empty, _figure, _hline
from rnnlab.figures.style import COLORS, HINT_OPACITY, LINE_LABELS, LINE_STYLES, RUN_COLORS


def metrics_bar_figure(metrics: Mapping[str, Mapping], metric: str = "rmse") -> go.Figure:
    """The model's error beside the baselines' (one bar each, lower is better)."""
    title = f"{metric.upper()}: model vs baselines (lower is better)"
    rows = [(name, m.get(metric)) for name, m in (metrics or {}).items()
            if m and m.get(metric) is not None and math.isfinite(float(m.get(metric)))]
    if not rows:
        return _empty(title, f"No {metric.upper()} to show", "", metric.upper())
    names = [LINE_LABELS.get(n, n) for n, _ in rows]
    values = [float(v) for _, v in rows]
    colors = [LINE_STYLES[n][0] if n in LINE_STYLES else RUN_COLORS[3] for n, _ in rows]
    spec = _figure(title, "", f"{metric.upper()} (data units)" if metric != "mape" else "MAPE (%)",
                   subtitle=_skill_text(dict(rows), metric), showlegend=False)
    spec.traces.append(dict(type="bar", x=names, y=values, marker=dict(color=colors),
                            text=[_fmt(v) for v in values], textposition="outside",
                            cliponaxis=False, name=metric.upper(),
                            hovertemplate=f"%{{x}}<br>{metric.upper()} %{{y:.6~g}}<extra></extra>"))
    spec.yaxis["rangemode"] = "tozero"
    spec.xaxis["showgrid"] = False
    return spec.figure()


def _skill_text(values: dict[str, float], metric: str) -> str | None:
    """'Skill vs naive: the model's RMSE is 18% lower than the naive one's', when both exist."""
    model, naive = values.get("model"), values.get("naive")
    if model is None or not naive:
        return None
    skill = 1 - model / naive
    way = "lower" if skill >= 0 else "higher"
    return (f"Skill vs naive = 1 − {_fmt(model)} / {_fmt(naive)} = {skill:+.0%}: the model's "
            f"{metric.upper()} is {abs(skill):.0%} {way} than repeating the last value")


def sweep_figure(axes: Mapping[str, list], cells: Sequence, words: Mapping[str, str] | None = None
                 ) -> go.Figure:
    """A sweep's grid: median skill vs naive per cell (over its seeds). Two settings: a heatmap
    with the median and the lowest … highest written in each cell; one: bars with the range as
    error bars. `cells`: `groups.Cell`s (values in the axes' order, `stats.skill`)."""
    names = list(axes)
    words = dict(words or {})
    title = "Skill vs naive over the sweep's grid"
    scored = [c for c in cells if c.stats.skill.median is not None]
    if not names or not scored:
        return _empty(title, "No run of the sweep has finished yet", "", "")
    label = [words.get(n, n) for n in names]
    sub = ("Median skill vs naive of each cell's runs (1 − RMSE ÷ naive RMSE on the test part); "
           "above 0 beats repeating the last value")

    def _v(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    if len(names) == 1:
        xs = [_v(v) for v in axes[names[0]]]
        by = {_v(c.values[0]): c.stats.skill for c in scored}
        mid = [by[x].median if x in by else None for x in xs]
        lo = [by[x].median - by[x].low if x in by else None for x in xs]
        hi = [by[x].high - by[x].median if x in by else None for x in xs]
        spec = _figure(title, label[0], "median skill vs naive", subtitle=sub)
        spec.traces.append(dict(type="bar", x=xs, y=mid, name="median skill",
                                marker=dict(color=[COLORS["model"] if (m or 0) > 0 else
                                                   COLORS["naive"] for m in mid]),
                                error_y=dict(type="data", symmetric=False, array=hi,
                                             arrayminus=lo, thickness=1.5),
                                hovertemplate="%{x}: %{y:+.3f}<extra></extra>"))
        spec.xaxis["type"] = "category"
        _hline(spec, 0, dict(color=COLORS["actual"], width=1))
        return spec.figure()
    xs = [_v(v) for v in axes[names[0]]]
    ys = [_v(v) for v in axes[names[1]]]
    z = np.full((len(ys), len(xs)), np.nan)
    text = [["" for _ in xs] for _ in ys]
    for c in scored:
        i, j = ys.index(_v(c.values[1])), xs.index(_v(c.values[0]))
        sk = c.stats.skill
        z[i, j] = sk.median
        text[i][j] = f"{sk.median:+.2f}" + (f"<br>({sk.low:+.2f} … {sk.high:+.2f})"
                                           if sk.n > 1 else "")
    reach = float(np.nanmax(np.abs(z))) or 1.0
    spec = _figure(title, label[0], label[1], subtitle=sub)
    spec.traces.append(dict(type="heatmap", x=xs, y=ys, z=z, text=text,
                            texttemplate="%{text}", zmid=0, zmin=-reach, zmax=reach,
                            colorscale="RdBu", colorbar=dict(title=dict(text="skill")),
                            hovertemplate=f"{label[0]} %{{x}}, {label[1]} %{{y}}: "
                                          "%{z:+.3f}<extra></extra>"))
    spec.xaxis["type"] = "category"
    spec.yaxis["type"] = "category"
    return spec.figure()


def group_skill_figure(spreads: Sequence) -> go.Figure:
    """Groups side by side: each one's median skill vs naive as a dot, its lowest to highest
    run as a bar. `spreads`: (label, groups.Spread) pairs."""
    title = "Skill vs naive of each group: median and lowest … highest"
    shown = [(label, sp) for label, sp in spreads if sp.median is not None]
    if not shown:
        return _empty(title, "No run of these groups has finished yet", "", "skill vs naive")
    spec = _figure(title, "", "skill vs naive", subtitle="A group whose bar stays above 0 beats "
                   "repeating the last value whatever the luck of its runs")
    xs = [label for label, _ in shown]
    mid = [sp.median for _, sp in shown]
    spec.traces.append(dict(
        type="scatter", x=xs, y=mid, mode="markers", name="median",
        marker=dict(size=12, color=[COLORS["model"] if m > 0 else COLORS["naive"] for m in mid]),
        error_y=dict(type="data", symmetric=False, array=[sp.high - sp.median for _, sp in shown],
                     arrayminus=[sp.median - sp.low for _, sp in shown], thickness=2),
        hovertemplate="%{x}: %{y:+.3f}<extra></extra>"))
    spec.xaxis["type"] = "category"
    _hline(spec, 0, dict(color=COLORS["actual"], width=1))
    return spec.figure()


def backtest_figure(rows: Sequence[Mapping]) -> go.Figure:
    """A backtest's folds: skill vs naive per fold as bars (above 0 beats naive), oldest first.
    `rows`: `groups.backtest_rows`."""
    title = "Skill vs naive at each backtest origin"
    done = [r for r in rows if r.get("skill vs naive") is not None]
    if not done:
        return _empty(title, "No fold has finished yet", "fold", "skill vs naive")
    spec = _figure(title, "fold (test part rolling forward)", "skill vs naive",
                   subtitle="Each fold trains on the rows before its test part and tests on the "
                            "next rows; above 0 beats repeating the last value")
    xs = [f"fold {r['fold']}<br>rows to {r['rows up to']}" for r in done]
    ys = [r["skill vs naive"] for r in done]
    spec.traces.append(dict(type="bar", x=xs, y=ys, name="skill vs naive",
                            marker=dict(color=[COLORS["model"] if y > 0 else COLORS["naive"]
                                               for y in ys]),
                            hovertemplate="%{x}: %{y:+.3f}<extra></extra>"))
    spec.xaxis["type"] = "category"
    _hline(spec, 0, dict(color=COLORS["actual"], width=1))
    return spec.figure()


def _plain_label(text: str) -> str:
    """A person's name as Plotly text: its small HTML (<b>, <a href>, ...) shown, not acted on."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def class_skill_figure(skills: Mapping[str, float | None],
                       title: str = "The class's best runs: skill vs the naive forecast"
                       ) -> go.Figure:
    """One dot per student: the skill vs naive (1 − model RMSE / naive RMSE) of their best
    finished run, students ordered from best to worst, so the spread of the class shows at a
    glance. Dots above 0 beat the naive forecast (blue), the others did not (orange); the
    dashed line is the class's median. Students without a finished run are left out."""
    scored = {name: float(v) for name, v in skills.items()
              if v is not None and math.isfinite(float(v))}
    if not scored:
        return _empty(title, "No finished run yet", "student", "skill vs naive")
    ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0].casefold()))
    values = np.array([v for _, v in ranked])                       # (students,)
    median = float(np.median(values))
    beat = int((values > 0).sum())
    spec = _figure(title, "student", "skill vs naive (higher is better)",
                   subtitle=f"{beat} of {len(values)} beat the naive forecast (above 0); "
                            f"median {median:+.2f}, from {values.min():+.2f} to "
                            f"{values.max():+.2f}", hovermode="closest")
    for label, color, keep in (("beat the naive forecast", COLORS["model"], True),
                               ("did not beat it", COLORS["naive"], False)):
        part = [(name, v) for name, v in ranked if (v > 0) == keep]
        if not part:
            continue
        spec.traces.append(dict(
            type="scatter", mode="markers", name=label,
            x=[_plain_label(name) for name, _ in part], y=[v for _, v in part],
            marker=dict(color=color, size=16, line=dict(width=1, color="white")),
            hovertemplate="%{x}: skill %{y:+.3f}<extra></extra>"))
    _hline(spec, 0.0, dict(color=COLORS["naive"], width=1.5))
    _hline(spec, median, dict(color=COLORS["actual"], width=1.5, dash="dash"))
    spec.annotations.append(dict(text="naive forecast", x=1, xref="x domain", xanchor="right",
                                 y=0.0, yref="y", yanchor="bottom", showarrow=False,
                                 font=dict(size=12, color=COLORS["naive"])))
    spec.annotations.append(dict(text=f"median {median:+.2f}", x=0, xref="x domain",
                                 xanchor="left", y=median, yref="y", yanchor="bottom",
                                 showarrow=False, font=dict(size=12), opacity=HINT_OPACITY))
    spec.xaxis.update(type="category", categoryorder="array",
                      categoryarray=[_plain_label(name) for name, _ in ranked], tickangle=-30)
    low, high = min(values.min(), 0.0), max(values.max(), 0.0)
    pad = max(0.05, 0.1 * (high - low))
    spec.yaxis.update(range=[low - pad, high + pad], zeroline=False)
    return spec.figure()

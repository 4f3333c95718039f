"""One run as one self-contained HTML file, to keep, mail or hand in.

`build_html(store, run_id)` gathers what the store and the run's folder hold: the data (source,
target, rows, split, transform, season, and the cleaning report when the data file can still be
read), the settings in words, the charts of `rnnlab.figures` (interactive, drawn by Plotly in the
page), the scores against the baselines with the coach's notes, the gradient views, the event
log and the standalone Keras script of `rnnlab.codegen`.

The file needs no server and no internet: plotly.js is inside it once, gzipped and base64
encoded (about 1.9 MB instead of 4.8 MB), and unpacked by the browser
(`DecompressionStream`, in every current browser); each chart's JSON sits in its own
`<script type="application/json">` block. Every piece of user text (run, file and column names,
messages) is escaped with `html.escape`.

pandas, numpy and Plotly only: the web process builds it, so no TensorFlow.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from rnnlab import coach, codegen, figures, samples
from rnnlab.config import CELL_LABELS, TRANSFORM_LABELS, RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.evaluate import PREDICTORS, format_number
from rnnlab.store import LOSS_COLUMNS, RunRecord, Store, format_duration

CHART_CLASS = "rnnlab-chart"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
METRIC_COLUMNS = (("rmse", "RMSE"), ("mae", "MAE"), ("mape", "MAPE %"), ("r2", "R²"))
MAX_HEATMAP_CELLS = 12_000   # a gradient heatmap in the file keeps at most about this many cells
KIND_WORDS = {"one-step-ahead": "one step ahead", "free-running": "free-running"}
SCALING_WORDS = {"minmax": "min-max to the range 0 to 1", "standard": "standardised (mean 0, "
                 "standard deviation 1)", "none": "not scaled"}
FILL_WORDS = {"interpolate": "filled in by straight lines between their neighbours",
              "ffill": "filled with the last known value", "drop": "dropped (the row goes)"}
OPTIMIZER_WORDS = {"adam": "Adam", "sgd": "plain stochastic gradient descent (SGD)",
                   "rmsprop": "RMSprop"}
LOSS_WORDS = {"mse": "mean squared error", "mae": "mean absolute error",
              "huber": "Huber (squared for small errors, absolute for large ones)"}


@dataclass
class Chart:
    """One figure of the report, with a few words on how to read it."""

    key: str
    figure: go.Figure
    caption: str = ""


@dataclass
class DataFacts:
    """What the report says about the data; `error` when the file could not be read now."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    cleaning: list[tuple[str, str]] = field(default_factory=list)   # (kind, message)
    chart: Chart | None = None
    error: str | None = None


# -- the whole file ------------------------------------------------------------------------------
def build_html(store: Store, run_id: str, *, compress: bool = True) -> str:
    """The run's report as HTML text (see the module docstring). `compress=False` puts plotly.js
    in as it is (4.8 MB), for browsers without DecompressionStream."""
    run = store.get_run(run_id)
    pred = _read_csv(store, run.id, "predictions.csv")
    forecast = _read_csv(store, run.id, "forecast.csv")
    facts = data_facts(run)
    charts = build_charts(store, run, pred, forecast, facts)
    body = [
        _header(run),
        _section("Summary", _summary_html(run)),
        _section("Data", _data_html(run, facts, charts)),
        _section("Settings", _settings_html(run)),
        _section("Scores against the baselines", _scores_html(store, run, charts)),
        _section("Predictions", _charts_html(charts, ("pred_one", "resid_one", "pred_free",
                                                       "forecast"),
                                             "This run has no predictions file (only a run that "
                                             "finished training has one).")),
        _section("Training", _charts_html(charts, ("loss",), "No epochs were recorded.")
                 + _events_html(store, run)),
        _section("Gradients", _gradients_intro(run, charts)
                 + _charts_html(charts, [k for k in charts if k.startswith("grad_")],
                                "No gradient traces were recorded for this run.")),
        _section("The run as a Keras script", _script_html(run)),
    ]
    return _page(f"RNN Lab report: {run.label}", "\n".join(body), charts, compress)


def write_html(store: Store, run_id: str, path: str | Path) -> Path:
    """Write the report to `path`; a folder that cannot be written is the user's mistake."""
    path = Path(path)
    text = build_html(store, run_id)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RnnlabError(f"Cannot write {path}: {exc.strerror}. Check the folder.") from None
    return path


def _page(title: str, body: str, charts: dict[str, Chart], compress: bool) -> str:
    specs = "\n".join(
        f'<script type="application/json" id="spec-{c.key}">{_figure_json(c.figure)}</script>'
        for c in charts.values())
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="RNN Lab">\n'
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            f'<p id="chart-status" class="note">Drawing the charts…</p>\n{body}\n</main>\n'
            f"{specs}\n{_plotly_block(compress)}\n<script>{_BOOT_JS}</script>\n"
            "</body>\n</html>\n")


def _figure_json(fig: go.Figure) -> str:
    """The figure's JSON, safe inside a <script> element (no '<' can close it)."""
    text = pio.to_json(fig.to_dict(), validate=False, pretty=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@functools.lru_cache(maxsize=2)
def _plotly_block(compress: bool) -> str:
    """plotly.js once, inline: gzipped and base64 encoded, or as it is."""
    from plotly.offline import get_plotlyjs

    code = get_plotlyjs()
    if not compress:
        return f'<script type="text/javascript">{code}</script>'
    packed = base64.b64encode(gzip.compress(code.encode("utf-8"), compresslevel=9, mtime=0))
    return f'<script type="application/octet-stream" id="plotly-gz">{packed.decode()}</script>'


# Unpack plotly.js (when packed), then draw every chart from its JSON block. Says what went wrong
# in the page (an old browser, a damaged file) instead of failing silently.
_BOOT_JS = r"""
(function () {
  var status = document.getElementById("chart-status");
  function say(text, bad) { status.textContent = text; status.className = bad ? "note bad" : "note"; }
  function draw() {
    var charts = document.querySelectorAll(".rnnlab-chart"), drawn = 0;
    charts.forEach(function (div) {
      try {
        var spec = JSON.parse(document.getElementById("spec-" + div.dataset.key).textContent);
        Plotly.newPlot(div, spec.data, spec.layout || {}, CONFIG);
        drawn += 1;
      } catch (err) { div.textContent = "This chart could not be drawn: " + err; }
    });
    if (drawn === charts.length) { status.remove(); } else { say(drawn + " of " + charts.length + " charts drawn.", true); }
  }
  var packed = document.getElementById("plotly-gz");
  if (!packed) { draw(); return; }
  if (typeof DecompressionStream === "undefined") {
    say("This browser is too old to draw the charts (it lacks DecompressionStream). Open the file in a current Chrome, Edge, Firefox or Safari.", true);
    return;
  }
  var text = atob(packed.textContent.trim()), bytes = new Uint8Array(text.length);
  for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  new Response(stream).text().then(function (code) {
    (0, eval)(code);
    draw();
  }).catch(function (err) { say("The charts could not be drawn: " + err, true); });
})();
""".replace("CONFIG", json.dumps(PLOTLY_CONFIG))

_CSS = """
body { font-family: Arial, Helvetica, sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; background: white; }
h1 { font-size: 28px; margin-bottom: 4px; } h2 { font-size: 22px; margin-top: 40px;
  border-bottom: 2px solid #e5e5e5; padding-bottom: 6px; } h3 { font-size: 17px; }
.sub { color: #555; margin-top: 0; } .note { color: #555; font-size: 14px; }
.bad { color: #b00020; font-weight: bold; }
.headline { font-size: 18px; font-weight: bold; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 5px 12px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.model td { font-weight: bold; }
.chart { margin: 16px 0 4px; } .rnnlab-chart { width: 100%; height: 460px; }
.coach { border: 1px solid #d6e6f5; background: #f4f8fc; border-radius: 6px; padding: 10px 14px;
  margin: 10px 0; }
.finding-warning { color: #8a5300; } .finding-action { color: #1f4e79; }
pre { background: #f5f5f5; border: 1px solid #e5e5e5; padding: 12px; overflow-x: auto;
  font-size: 12.5px; line-height: 1.4; }
details { margin: 12px 0; } summary { cursor: pointer; font-weight: bold; }
"""


# -- the charts ----------------------------------------------------------------------------------
def build_charts(store: Store, run: RunRecord, pred: pd.DataFrame | None,
                 forecast: pd.DataFrame | None, facts: DataFacts | None = None) -> dict[str, Chart]:
    """Every chart of the report, by key, in the order they are shown; charts without data
    are left out."""
    charts: dict[str, Chart] = {}
    if facts is not None and facts.chart is not None:
        charts["data"] = facts.chart
    target = run.summary.get("target") or run.config.get("data", {}).get("target")
    if pred is not None and not pred.empty and {"kind", "step", "actual", "model"} <= set(pred):
        _prediction_charts(charts, pred, target, forecast)
    test = (run.summary.get("metrics") or {}).get("test")
    if test:
        charts["metrics"] = Chart("metrics", figures.metrics_bar_figure(test),
                                  "The test error of the model beside the baselines'.")
    curves = store.curves(run.id, LOSS_COLUMNS)
    if curves["epoch"]:
        charts["loss"] = Chart("loss", figures.loss_figure(curves),
                               "Loss on the scaled data, per epoch: training solid, validation "
                               "dashed.")
    _gradient_charts(charts, store, run)
    return charts


def _prediction_charts(charts: dict[str, Chart], pred: pd.DataFrame, target: str | None,
                       forecast: pd.DataFrame | None) -> None:
    kinds = set(pred["kind"].astype(str))
    if "one-step-ahead" in kinds:
        charts["pred_one"] = Chart("pred_one", figures.predictions_figure(
            pred, "one-step-ahead", 1, target=target),
            "Each forecast is made from the true past values, so errors never pile up. The "
            "baselines not drawn are in the legend: click one to show it.")
        charts["resid_one"] = Chart("resid_one", figures.residuals_figure(
            pred, "one-step-ahead", 1, target=target), "Actual minus predicted, over time.")
    if "free-running" in kinds:
        rows = pred[pred["kind"] == "free-running"].assign(step=1)
        charts["pred_free"] = Chart("pred_free", figures.predictions_figure(
            rows, "free-running", 1, target=target),
            "From the start of the test part the model sees only its own forecasts, so errors "
            "can grow.")
    if forecast is not None and not forecast.empty and {"timestamp", "forecast"} <= set(forecast):
        history = _history(pred, target)
        if history is not None:
            charts["forecast"] = Chart("forecast", figures.forecast_figure(
                history, forecast.assign(timestamp=_index(forecast["timestamp"]))),
                "The forecast past the end of the data, each step fed the one before.")


def _history(pred: pd.DataFrame, target: str | None) -> pd.Series | None:
    rows = pred[(pred["kind"] == "one-step-ahead") & (pred["step"] == 1)]
    if "split" in rows:
        rows = rows[rows["split"] == "test"]
    if rows.empty:
        return None
    try:
        return pd.Series(rows["actual"].to_numpy(dtype=float), index=_index(rows["timestamp"]),
                         name=target or "value")
    except (ValueError, TypeError):
        return None


def _index(values: pd.Series) -> pd.Index:
    """ISO text as dates, positions as numbers (as the Results page reads them)."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.Index(values)
    return pd.DatetimeIndex(pd.to_datetime(values))


def shown_epochs(epochs, max_epochs: int) -> list[int]:
    """At most `max_epochs` of the sorted `epochs`, evenly spread, the first and last kept."""
    epochs = sorted(set(epochs))
    if len(epochs) <= max_epochs:
        return epochs
    picks = {round(i * (len(epochs) - 1) / (max_epochs - 1)) for i in range(max_epochs)}
    return [epochs[i] for i in sorted(picks)]


def _thinned_words(shown: int, total: int) -> str:
    return "" if shown == total else (f" To keep the file small, {shown} of the {total} epochs "
                                      "are shown, evenly spread (first and last included).")


def _gradient_charts(charts: dict[str, Chart], store: Store, run: RunRecord) -> None:
    tensors = store.tensor_norms(run.id)
    if tensors:
        all_epochs = {r["epoch"] for r in tensors}
        keep = set(shown_epochs(all_epochs, max(20, MAX_HEATMAP_CELLS // max(
            1, len({r["tensor"] for r in tensors})))))
        charts["grad_tensor"] = Chart(
            "grad_tensor", figures.tensor_heatmap([r for r in tensors if r["epoch"] in keep],
                                                  "mean"),
            "One row per weight tensor (kernel = from the inputs, recurrent_kernel = from one "
            "step to the next, bias), one column per epoch; colour = the average gradient size, "
            "log scale. Dark rows barely learn." + _thinned_words(len(keep), len(all_epochs)))
    steps = store.step_norms(run.id)
    if steps:
        charts["grad_steps"] = Chart(
            "grad_steps", figures.step_norm_figure(steps, (run.config.get("train") or {})
                                                   .get("clipnorm")),
            "The size of the whole gradient at every training step. Spikes are exploding "
            "gradients; sinking towards zero is vanishing.")
    through = store.through_time(run.id)
    for series in sorted(through, key=lambda n: (n != "input", len(n), n)):
        by_epoch = through[series]
        width = max((len(v) for v in by_epoch.values()), default=1)
        keep = shown_epochs(by_epoch, max(20, MAX_HEATMAP_CELLS // max(1, width)))
        charts[f"grad_time_{series}"] = Chart(
            f"grad_time_{series}",
            figures.through_time_heatmap({series: {e: by_epoch[e] for e in keep}}, series),
            "One row per epoch, one column per step back from the prediction (1 = the most "
            "recent input); colour fading to the right means the gradient vanishes on its way "
            "back in time." + _thinned_words(len(keep), len(by_epoch)))


# -- the data ------------------------------------------------------------------------------------
def data_facts(run: RunRecord) -> DataFacts:
    """The data as the run saw it: read again from its file when that is still there."""
    facts = DataFacts()
    cfg = run.config.get("data") or {}
    source = cfg.get("source") or run.summary.get("data_source")
    facts.rows.append(("Data", _source_words(source)))
    if cfg.get("test_source"):
        facts.rows.append(("Test data", _source_words(cfg["test_source"])))
    target = run.summary.get("target") or cfg.get("target")
    if target:
        facts.rows.append(("Forecast", str(target)))
    if cfg.get("features"):
        facts.rows.append(("Other inputs", ", ".join(map(str, cfg["features"]))))
    transform = run.summary.get("transform") or cfg.get("transform")
    if transform:
        facts.rows.append(("What the network learns", TRANSFORM_LABELS.get(transform, transform)))
    season = run.summary.get("season", cfg.get("season"))
    facts.rows.append(("Season", f"{season} rows" if season else "none given"))
    trange = run.summary.get("train_range")
    if isinstance(trange, dict) and trange.get("min") is not None:
        facts.rows.append(("Range of the training values",
                           f"{_num(trange['min'])} to {_num(trange.get('max'))}"))
    if run.data_sha256:
        facts.rows.append(("Data fingerprint (SHA-256)", run.data_sha256))
    try:
        _read_data(run, facts)
    except Exception as exc:     # the file moved, changed or cannot be read: say so, go on
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        facts.error = (f"The data file could not be read again for this report ({detail}), so "
                       "its rows, split and cleaning report are not shown.")
    return facts


def _read_data(run: RunRecord, facts: DataFacts) -> None:
    from rnnlab import data

    cfg = RunConfig.from_dict(run.config)
    prepared = data.prepare(cfg.data, cfg.model.lookback, cfg.model.horizon)
    if run.data_sha256 and prepared.data_sha256 != run.data_sha256:
        facts.error = ("The data file has changed since this run trained (its fingerprint "
                       "differs): the rows and cleaning report below describe the file as it "
                       "is now.")
    loaded = prepared.loaded
    index = prepared.index
    total = prepared.n_train + prepared.n_val + prepared.n_test
    facts.rows.append(("Rows", f"{total:,} ({_split_words(prepared)})"))
    if isinstance(index, pd.DatetimeIndex) and len(index):
        span = f"{index[0].date()} to {index[-1].date()}"
        facts.rows.append(("Dates", f"{span}; date column {loaded.date_column}"))
    if loaded.dropped_columns:
        facts.rows.append(("Columns left out", "; ".join(
            f"{name}: {why}" for name, why in loaded.dropped_columns.items())))
    facts.cleaning = [(f.kind, f.message) for f in loaded.report.findings]
    if prepared.test_loaded is not None:
        facts.cleaning += [(f.kind, f"Test file: {f.message}")
                           for f in prepared.test_loaded.report.findings]
    frame = pd.DataFrame(prepared.values, index=index, columns=prepared.inputs)
    facts.chart = Chart("data", figures.series_figure(
        frame, prepared.target, (prepared.n_train, prepared.n_val, prepared.n_test)),
        "The data over time, shaded by the part each row belongs to; other input columns are "
        "in the legend.")


def _split_words(prepared) -> str:
    parts = [f"{prepared.n_train:,} to train", f"{prepared.n_val:,} to validate",
             f"{prepared.n_test:,} to test"]
    return ", ".join(parts) + ", in time order"


def _source_words(source: str | None) -> str:
    if not source:
        return "unknown"
    sample = samples.SAMPLES.get(source)
    if sample is not None:
        return f"the sample {sample.title} ({source})"
    return Path(source).name


# -- sections ------------------------------------------------------------------------------------
def _header(run: RunRecord) -> str:
    cfg = run.config.get("model") or {}
    cell = CELL_LABELS.get(cfg.get("cell"), cfg.get("cell", "?"))
    made = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    return (f"<h1>{_e(run.label)}</h1>\n<p class=\"sub\">Run {_e(run.id)} · {_e(cell)} · "
            f"{_e(run.status.value)} · report made {made} by RNN Lab</p>")


def _summary_html(run: RunRecord) -> str:
    s = run.summary
    rows = [("Status", f"{run.status.value}, {run.epochs_done} of {run.epochs_total} epochs")]
    if run.created_at:
        rows.append(("Created", time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created_at))))
    if run.elapsed is not None:
        rows.append(("Training time", format_duration(run.elapsed)))
    if s.get("seconds_per_epoch"):
        rows.append(("Time per epoch", f"{s['seconds_per_epoch']:.2f} s"))
    if s.get("params"):
        rows.append(("Trainable parameters", f"{int(s['params']):,}"))
    out = []
    for line in (s.get("headline"), s.get("sentence") if s.get("sentence") != s.get("headline")
                 else None):
        if line:
            out.append(f'<p class="headline">{_e(line)}</p>' if line == s.get("headline")
                       else f"<p>{_e(line)}</p>")
    if s.get("message"):
        out.append(f"<p>{_e(s['message'])}</p>")
    if run.error:
        out.append(f'<p class="bad">Error: {_e(run.error)}</p>')
    out.append(_kv_table(rows))
    return "\n".join(out)


def _data_html(run: RunRecord, facts: DataFacts, charts: dict[str, Chart]) -> str:
    out = [_kv_table(facts.rows)]
    if facts.error:
        out.append(f'<p class="note">{_e(facts.error)}</p>')
    if facts.cleaning:
        items = "".join(f'<li class="finding-{_e(kind)}">{_e(message)}</li>'
                        for kind, message in facts.cleaning)
        out.append(f"<h3>What the loader found and changed</h3>\n<ul>{items}</ul>")
    if "data" in charts:
        out.append(_chart_div(charts["data"]))
    return "\n".join(out)


def _settings_html(run: RunRecord) -> str:
    try:
        cfg = RunConfig.from_dict(run.config)
    except RnnlabError as exc:
        return f'<p class="note">The settings could not be read: {_e(exc)}</p>'
    out = []
    for title, lines in settings_words(cfg):
        items = "".join(f"<li>{_e(line)}</li>" for line in lines)
        out.append(f"<h3>{_e(title)}</h3>\n<ul>{items}</ul>")
    raw = json.dumps(run.config, indent=2, sort_keys=True)
    out.append(f"<details><summary>The settings as JSON (for rnnlab train --config)</summary>"
               f"<pre>{_e(raw)}</pre></details>")
    return "\n".join(out)


def settings_words(cfg: RunConfig) -> list[tuple[str, list[str]]]:
    """The run's settings as plain sentences: data, network, training."""
    d, m, t = cfg.data, cfg.model, cfg.train
    data = [f"Forecast {d.target or 'the first numeric column'} from "
            f"{_source_words(d.source)}."]
    if d.test_source:
        val = (f"the last {d.val_fraction:.0%} of the training file validate" if d.val_fraction
               else "there is no validation part")
        data.append(f"Test on the later rows of the separate file {_source_words(d.test_source)}; "
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
    if m.cell == "esn":
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
    if m.cell == "esn":
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


def metrics_rows(split_metrics: dict) -> list[dict]:
    """Model then baselines: predictor label, RMSE, MAE, MAPE, R², skill vs naive (raw numbers)."""
    naive = (split_metrics.get("naive") or {}).get("rmse")
    order = [n for n in PREDICTORS if n in split_metrics]
    order += [n for n in split_metrics if n not in order]
    rows = []
    for name in order:
        scores = split_metrics[name]
        if not isinstance(scores, dict):
            continue
        row = {"key": name, "predictor": PREDICTORS.get(name, name)}
        row.update({k: scores.get(k) for k, _ in METRIC_COLUMNS})
        rmse = scores.get("rmse")
        row["skill"] = (1 - rmse / naive) if (naive and rmse is not None) else None
        rows.append(row)
    return rows


def _metrics_table(split_metrics: dict, split: str) -> str:
    head = "".join(f'<th class="num">{label}</th>' for _, label in METRIC_COLUMNS)
    lines = [f'<table class="metrics" data-split="{_e(split)}"><tr><th>predictor</th>{head}'
             '<th class="num">skill vs naive</th></tr>']
    for row in metrics_rows(split_metrics):
        cells = "".join(f'<td class="num" data-metric="{k}" data-value="{_raw(row[k])}">'
                        f"{_num(row[k])}</td>" for k, _ in METRIC_COLUMNS)
        skill = "—" if row["skill"] is None else f"{row['skill']:+.2f}"
        cls = ' class="model"' if row["key"] == "model" else ""
        lines.append(f'<tr{cls} data-predictor="{_e(row["key"])}"><td>{_e(row["predictor"])}'
                     f'</td>{cells}<td class="num">{skill}</td></tr>')
    return "\n".join(lines) + "</table>"


def _scores_html(store: Store, run: RunRecord, charts: dict[str, Chart]) -> str:
    metrics = run.summary.get("metrics") or {}
    out = []
    if not metrics.get("test"):
        out.append('<p class="note">This run has no test scores (only a run that finished '
                   "training is scored).</p>")
    else:
        n = (metrics["test"].get("model") or {}).get("n")
        out.append(f"<h3>Test part{f' ({n:,} values)' if isinstance(n, int) else ''}</h3>")
        out.append(_metrics_table(metrics["test"], "test"))
        out.append('<p class="note">The baselines are simple forecasts any model must beat: naive '
                   "(the next value equals the last one), the same time one season earlier, a "
                   "straight-line formula on the same window (linear autoregression) and, where "
                   "installed, exponential smoothing. Skill vs naive = 1 − RMSE of the predictor "
                   "÷ RMSE of naive: above 0 beats naive, below 0 is worse. Errors are in the "
                   "data's units.</p>")
        if "metrics" in charts:
            out.append(_chart_div(charts["metrics"]))
    if metrics.get("val"):
        out.append("<h3>Validation part</h3>" + _metrics_table(metrics["val"], "val"))
    notes = [*(run.summary.get("notes") or []),
             *(run.summary.get("baseline_notes") or {}).values()]
    if notes:
        out.append("<ul>" + "".join(f'<li class="note">{_e(n)}</li>' for n in notes) + "</ul>")
    out.append(_coach_html(store, run))
    return "\n".join(out)


def _coach_html(store: Store, run: RunRecord) -> str:
    try:
        found = coach.diagnose_run(store, run.id)
    except Exception as exc:     # a damaged artefact only silences the coach
        return f'<p class="note">The coach could not read this run ({_e(type(exc).__name__)}).</p>'
    if not found:
        return ("<h3>What the coach sees</h3><p>Nothing to fix: the coach found no problem "
                "in this run.</p>")
    items = []
    for d in found:
        tip = f"<br><em>Try this:</em> {_e(d.try_label)} ({_e(d.settings)})" if d.try_this else ""
        items.append(f'<div class="coach" data-code="{_e(d.code)}"><strong>{_e(d.title)}</strong>'
                     f"<br>{_e(d.evidence)}<br>{_e(d.advice)}{tip}</div>")
    return "<h3>What the coach sees</h3>\n" + "\n".join(items)


def _gradients_intro(run: RunRecord, charts: dict[str, Chart]) -> str:
    if any(k.startswith("grad_") for k in charts):
        return ('<p class="note">How the learning signal flowed through the network while it '
                "trained: the place to see vanishing and exploding gradients.</p>")
    return ""


def _events_html(store: Store, run: RunRecord) -> str:
    events = store.events(run.id)
    if not events:
        return ""
    rows = "".join(f"<tr><td>{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(e['at']))}</td>"
                   f"<td>{_e(e['kind'])}</td><td>{_e(e['message'])}</td></tr>" for e in events)
    return (f"<details><summary>Event log ({len(events)} "
            f"{'entry' if len(events) == 1 else 'entries'})</summary>"
            f"<table><tr><th>when</th><th>what</th><th>details</th></tr>{rows}</table></details>")


def _script_html(run: RunRecord) -> str:
    text = script_text(run)
    if text is None:
        return '<p class="note">These settings cannot be exported as a script.</p>'
    return ('<p class="note">A plain Python script that rebuilds and retrains this run with Keras; '
            "save it as a .py file next to the data and run it.</p>"
            f'<details><summary>Show the script</summary><pre id="script">{_e(text)}</pre>'
            "</details>")


def script_text(run: RunRecord) -> str | None:
    """The run as a standalone Keras script (None when the export refuses its settings)."""
    try:
        cfg = RunConfig.from_dict(run.config)
        return codegen.export(cfg, _script_data_hint(cfg.data.source), run_id=run.id,
                              data_sha256=run.data_sha256 or None)
    except RnnlabError:
        return None


def _script_data_hint(source: str) -> str | None:
    """None for samples (the export knows them), the file's own name for anything else."""
    if source in samples.SAMPLES or samples.sample_for(source) is not None:
        return None
    return Path(source).name


# -- small pieces --------------------------------------------------------------------------------
def _section(title: str, inner: str) -> str:
    slug = title.lower().split()[0]
    return f'<section id="{slug}">\n<h2>{_e(title)}</h2>\n{inner}\n</section>'


def _charts_html(charts: dict[str, Chart], keys, missing: str) -> str:
    shown = [charts[k] for k in keys if k in charts]
    if not shown:
        return f'<p class="note">{_e(missing)}</p>'
    return "\n".join(_chart_div(c) for c in shown)


def _chart_div(chart: Chart) -> str:
    caption = f'<p class="note">{_e(chart.caption)}</p>' if chart.caption else ""
    return (f'<div class="chart"><div class="{CHART_CLASS}" id="chart-{_e(chart.key)}" '
            f'data-key="{_e(chart.key)}"></div>{caption}</div>')


def _kv_table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="facts">{body}</table>'


def _read_csv(store: Store, run_id: str, name: str) -> pd.DataFrame | None:
    path = store.artefact(run_id, name)
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError):
        return None


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(value: Any, digits: int = 4) -> str:
    return _e(format_number(value, digits, thousands=True))


def _raw(value: Any) -> str:
    """A number in full (repr) for the data-value attribute, '' when missing."""
    if value is None:
        return ""
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return _e(value)

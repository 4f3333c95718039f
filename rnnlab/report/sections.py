"""The sections of the report as HTML: the header, summary, data, settings, scores against the
baselines with the coach's notes, the event log and the run as a Keras script."""

from __future__ import annotations

import json
import time

from rnnlab import coach, codegen, samples
from rnnlab.config import CELL_LABELS, RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.report.charts import Chart
from rnnlab.report.data import DataFacts
from rnnlab.report.html import chart_div, esc, kv_table, num, raw
from rnnlab.report.words import settings_words
from rnnlab.scores import METRIC_COLUMNS, metrics_rows
from rnnlab.store import RunRecord, Store, format_duration


def header_html(run: RunRecord) -> str:
    cfg = run.config.get("model") or {}
    cell = CELL_LABELS.get(cfg.get("cell"), cfg.get("cell", "?"))
    made = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    return (f"<h1>{esc(run.label)}</h1>\n<p class=\"sub\">Run {esc(run.id)} · {esc(cell)} · "
            f"{esc(run.status.value)} · report made {made} by RNN Lab</p>")


def summary_html(run: RunRecord) -> str:
    s = run.result
    rows = [("Status", f"{run.status.value}, {run.epochs_done} of {run.epochs_total} epochs")]
    if run.created_at:
        rows.append(("Created", time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created_at))))
    if run.elapsed is not None:
        rows.append(("Training time", format_duration(run.elapsed)))
    if s.seconds_per_epoch:
        rows.append(("Time per epoch", f"{s.seconds_per_epoch:.2f} s"))
    if s.params:
        rows.append(("Trainable parameters", f"{int(s.params):,}"))
    out = []
    for line in (s.headline, s.sentence if s.sentence != s.headline else None):
        if line:
            out.append(f'<p class="headline">{esc(line)}</p>' if line == s.headline
                       else f"<p>{esc(line)}</p>")
    if s.message:
        out.append(f"<p>{esc(s.message)}</p>")
    if run.error:
        out.append(f'<p class="bad">Error: {esc(run.error)}</p>')
    out.append(kv_table(rows))
    return "\n".join(out)


def data_html(run: RunRecord, facts: DataFacts, charts: dict[str, Chart]) -> str:
    out = [kv_table(facts.rows)]
    if facts.error:
        out.append(f'<p class="note">{esc(facts.error)}</p>')
    if facts.cleaning:
        items = "".join(f'<li class="finding-{esc(kind)}">{esc(message)}</li>'
                        for kind, message in facts.cleaning)
        out.append(f"<h3>What the loader found and changed</h3>\n<ul>{items}</ul>")
    if "data" in charts:
        out.append(chart_div(charts["data"]))
    return "\n".join(out)


def settings_html(run: RunRecord) -> str:
    try:
        cfg = RunConfig.from_dict(run.config)
    except RnnlabError as exc:
        return f'<p class="note">The settings could not be read: {esc(exc)}</p>'
    out = []
    for title, lines in settings_words(cfg):
        items = "".join(f"<li>{esc(line)}</li>" for line in lines)
        out.append(f"<h3>{esc(title)}</h3>\n<ul>{items}</ul>")
    as_json = json.dumps(run.config, indent=2, sort_keys=True)
    out.append(f"<details><summary>The settings as JSON (for rnnlab train --config)</summary>"
               f"<pre>{esc(as_json)}</pre></details>")
    return "\n".join(out)


def _metrics_table(split_metrics: dict, split: str) -> str:
    head = "".join(f'<th class="num">{label}</th>' for label in METRIC_COLUMNS.values())
    lines = [f'<table class="metrics" data-split="{esc(split)}"><tr><th>predictor</th>{head}'
             '<th class="num">skill vs naive</th></tr>']
    for row in metrics_rows(split_metrics):
        cells = "".join(f'<td class="num" data-metric="{k}" data-value="{raw(row[k])}">'
                        f"{num(row[k])}</td>" for k in METRIC_COLUMNS)
        skill = "—" if row["skill"] is None else f"{row['skill']:+.2f}"
        cls = ' class="model"' if row["key"] == "model" else ""
        lines.append(f'<tr{cls} data-predictor="{esc(row["key"])}"><td>{esc(row["predictor"])}'
                     f'</td>{cells}<td class="num">{skill}</td></tr>')
    return "\n".join(lines) + "</table>"


def scores_html(store: Store, run: RunRecord, charts: dict[str, Chart]) -> str:
    metrics = run.result.metrics or {}
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
            out.append(chart_div(charts["metrics"]))
    if metrics.get("val"):
        out.append("<h3>Validation part</h3>" + _metrics_table(metrics["val"], "val"))
    notes = run.result.all_notes
    if notes:
        out.append("<ul>" + "".join(f'<li class="note">{esc(n)}</li>' for n in notes) + "</ul>")
    out.append(_coach_html(store, run))
    return "\n".join(out)


def _coach_html(store: Store, run: RunRecord) -> str:
    try:
        found = coach.diagnose_run(store, run.id)
    except Exception as exc:     # a damaged artefact only silences the coach
        return f'<p class="note">The coach could not read this run ({esc(type(exc).__name__)}).</p>'
    if not found:
        return ("<h3>What the coach sees</h3><p>Nothing to fix: the coach found no problem "
                "in this run.</p>")
    items = []
    for d in found:
        tip = f"<br><em>Try this:</em> {esc(d.try_label)} ({esc(d.settings)})" if d.try_this else ""
        items.append(f'<div class="coach" data-code="{esc(d.code)}"><strong>{esc(d.title)}</strong>'
                     f"<br>{esc(d.evidence)}<br>{esc(d.advice)}{tip}</div>")
    return "<h3>What the coach sees</h3>\n" + "\n".join(items)


def gradients_intro(run: RunRecord, charts: dict[str, Chart]) -> str:
    if any(k.startswith("grad_") for k in charts):
        return ('<p class="note">How the learning signal flowed through the network while it '
                "trained: the place to see vanishing and exploding gradients.</p>")
    return ""


def events_html(store: Store, run: RunRecord) -> str:
    events = store.events(run.id)
    if not events:
        return ""
    rows = "".join(f"<tr><td>{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(e['at']))}</td>"
                   f"<td>{esc(e['kind'])}</td><td>{esc(e['message'])}</td></tr>" for e in events)
    return (f"<details><summary>Event log ({len(events)} "
            f"{'entry' if len(events) == 1 else 'entries'})</summary>"
            f"<table><tr><th>when</th><th>what</th><th>details</th></tr>{rows}</table></details>")


def script_html(run: RunRecord) -> str:
    text = script_text(run)
    if text is None:
        return '<p class="note">These settings cannot be exported as a script.</p>'
    return ('<p class="note">A plain Python script that rebuilds and retrains this run with Keras; '
            "save it as a .py file next to the data and run it.</p>"
            f'<details><summary>Show the script</summary><pre id="script">{esc(text)}</pre>'
            "</details>")


def script_text(run: RunRecord) -> str | None:
    """The run as a standalone Keras script (None when the export refuses its settings)."""
    try:
        cfg = RunConfig.from_dict(run.config)
        return codegen.export(cfg, samples.script_data_hint(cfg.data.source), run_id=run.id,
                              data_sha256=run.data_sha256 or None)
    except RnnlabError:
        return None

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

The pieces: `rnnlab.report.data` (what the data was), `rnnlab.report.words` (the settings in
sentences), `rnnlab.report.charts`, `rnnlab.report.sections` (each section's HTML) and
`rnnlab.report.html` (escaping and the small HTML pieces); this module puts the page together.

pandas, numpy and Plotly only: the web process builds it, so no TensorFlow.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from rnnlab import artefacts
from rnnlab.errors import RnnlabError
from rnnlab.report.charts import MAX_HEATMAP_CELLS, Chart, build_charts, shown_epochs
from rnnlab.report.data import data_facts
from rnnlab.report.html import charts_html, esc, section
from rnnlab.report.sections import (data_html, events_html, gradients_intro, header_html,
                                    script_html, scores_html, script_text, settings_html,
                                    summary_html)
from rnnlab.store import Store

__all__ = ["MAX_HEATMAP_CELLS", "build_html", "script_text", "shown_epochs", "write_html"]

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def build_html(store: Store, run_id: str, *, compress: bool = True) -> str:
    """The run's report as HTML text (see the module docstring). `compress=False` puts plotly.js
    in as it is (4.8 MB), for browsers without DecompressionStream."""
    run = store.get_run(run_id)
    pred = artefacts.read_csv(store.artefact(run.id, artefacts.PREDICTIONS))
    forecast = artefacts.read_csv(store.artefact(run.id, artefacts.FORECAST))
    facts = data_facts(run)
    charts = build_charts(store, run, pred, forecast, facts)
    body = [
        header_html(run),
        section("Summary", summary_html(run)),
        section("Data", data_html(run, facts, charts)),
        section("Settings", settings_html(run)),
        section("Scores against the baselines", scores_html(store, run, charts)),
        section("Predictions", charts_html(charts, ("pred_one", "resid_one", "pred_free",
                                                     "forecast"),
                                           "This run has no predictions file (only a run that "
                                           "finished training has one).")),
        section("Training", charts_html(charts, ("loss",), "No epochs were recorded.")
                + events_html(store, run)),
        section("Gradients", gradients_intro(run, charts)
                + charts_html(charts, [k for k in charts if k.startswith("grad_")],
                              "No gradient traces were recorded for this run.")),
        section("The run as a Keras script", script_html(run)),
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
            f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
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

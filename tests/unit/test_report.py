"""The run report: one self-contained HTML file with every chart, the store's numbers, escaped
user text, plotly.js inside it once, and a size that fits in a mail."""

import base64
import gzip
import html
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from fake_run import EVIL_NAME, make_run
from rnnlab import cli, report
from rnnlab.config import RunConfig, preset
from rnnlab.store import RunStatus
from statuses import set_status

MAX_BYTES = 5_000_000
GRADIENT_KEYS = ["grad_tensor", "grad_steps", "grad_time_input", "grad_time_layer_1",
                 "grad_time_layer_2", "grad_time_layer_3", "grad_time_layer_4"]
ALL_KEYS = {"data", "metrics", "pred_one", "resid_one", "pred_free", "forecast", "loss",
            *GRADIENT_KEYS}


@pytest.fixture
def seed_run(store):
    """A finished run of the seed tutorial's shape (100 epochs), written by hand."""
    return make_run(store)


@pytest.fixture
def page(store, seed_run) -> str:
    return report.build_html(store, seed_run)


def chart_keys(text: str) -> list[str]:
    return re.findall(r'<div class="rnnlab-chart" id="chart-([^"]+)" data-key="\1">', text)


def spec(text: str, key: str) -> dict:
    found = re.search(rf'<script type="application/json" id="spec-{re.escape(key)}">(.*?)</script>',
                      text, re.S)
    assert found, f"no JSON for chart {key}"
    return json.loads(found.group(1))


def numbers(value) -> np.ndarray:
    """A Plotly JSON array: a list, or a typed array {"dtype", "bdata"} (base64)."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return arr.reshape(shape) if shape else arr
    return np.asarray(value, dtype=float)


# -- every chart, once, offline -------------------------------------------------------------------
def test_every_chart_has_a_div_and_its_figure(page):
    keys = chart_keys(page)
    assert set(keys) == ALL_KEYS and len(keys) == len(ALL_KEYS)
    for key in keys:
        figure = spec(page, key)
        assert figure["data"], f"chart {key} has no traces"
        assert figure["layout"]["title"]["text"]


def test_plotly_js_is_inside_once_and_nothing_is_fetched(page):
    assert page.count('id="plotly-gz"') == 1
    packed = re.search(r'id="plotly-gz">([^<]+)</script>', page).group(1)
    assert gzip.decompress(base64.b64decode(packed)).decode() == get_plotlyjs()
    assert "src=" not in re.sub(r"<pre.*?</pre>", "", page, flags=re.S).replace(
        "&lt;img src=x", "")
    assert "cdn.plot.ly" not in page and "<link" not in page
    scripts = re.findall(r"<script[^>]*>", page)
    # one JSON block per chart, the packed plotly.js, the start-up script: nothing else
    assert len(scripts) == len(ALL_KEYS) + 2


def test_uncompressed_variant_has_plotly_js_as_it_is(store):
    run_id = make_run(store, epochs=3)
    text = report.build_html(store, run_id, compress=False)
    assert text.count(get_plotlyjs()) == 1 and 'id="plotly-gz"' not in text


def test_size_is_under_5_mb_for_the_seed_tutorial_run(page):
    size = len(page.encode("utf-8"))
    assert size < MAX_BYTES, f"{size:,} bytes"


# -- the store's numbers ----------------------------------------------------------------------------
def test_metrics_table_equals_the_stores_summary(store, seed_run, page):
    test = store.get_run(seed_run).summary["metrics"]["test"]
    table = re.search(r'<table class="metrics" data-split="test">(.*?)</table>', page, re.S).group(1)
    seen = {}
    for predictor, row in re.findall(r'<tr[^>]*data-predictor="([^"]+)">(.*?)</tr>', table, re.S):
        seen[predictor] = {m: float(v) for m, v in
                           re.findall(r'data-metric="(\w+)" data-value="([^"]+)"', row)}
    assert set(seen) == set(test)
    for predictor, scores in test.items():
        for metric in ("rmse", "mae", "mape", "r2"):
            assert seen[predictor][metric] == scores[metric], (predictor, metric)
    model_rmse = f"{test['model']['rmse']:.4g}"
    assert f'data-metric="rmse" data-value="{test["model"]["rmse"]!r}">{model_rmse}<' in table


def test_the_charts_carry_the_stores_values(store, seed_run, page):
    curves = store.curves(seed_run)
    loss = spec(page, "loss")["data"]
    assert numbers(loss[0]["y"]).tolist() == curves["train_loss"]
    assert numbers(loss[1]["y"]).tolist() == curves["val_loss"]
    steps = store.step_norms(seed_run)
    drawn = numbers(spec(page, "grad_steps")["data"][0]["y"])
    assert np.allclose(drawn, np.concatenate([steps[e] for e in sorted(steps)]))
    through = store.through_time(seed_run)["layer_2"]
    heat = spec(page, "grad_time_layer_2")["data"][0]
    assert np.allclose(numbers(heat["customdata"]), [through[e] for e in sorted(through)])


def test_the_coach_and_the_settings_are_in_words(page):
    assert "What the coach sees" in page and 'class="coach" data-code="still_improving"' in page
    assert "4 stacked LSTM layers of 50 units each, then a dense output layer." in page
    assert "Adam with learning rate 0.001, minimising the mean squared error." in page
    assert "It sees the last 60 steps and predicts the next value." in page


def test_the_data_section_reads_the_file_again(page):
    assert "1,278 (1,258 to train, 0 to validate, 20 to test, in time order)" in page
    assert "What the loader found and changed" in page
    assert "google_stock_price_test.csv" in page


def test_the_script_is_the_codegen_export(store, seed_run, page):
    run = store.get_run(seed_run)
    script = re.search(r'<pre id="script">(.*?)</pre>', page, re.S).group(1)
    assert html.unescape(script) == report.script_text(run)
    assert "import keras" in html.unescape(script)


# -- user text is inert ---------------------------------------------------------------------------
def test_user_text_is_escaped(page):
    assert EVIL_NAME not in page and "<script>alert" not in page
    assert html.escape(EVIL_NAME, quote=True) in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>markup</b>" not in page
    # inside the chart JSON no '<' can end the script element early
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S):
        assert "<" not in block


# -- runs with little to show ---------------------------------------------------------------------
def test_a_failed_run_without_epochs_or_files_still_reports(store):
    cfg = RunConfig().replace(name="broken <run>", data={"source": "/nowhere/gone.csv"})
    run_id = store.create_run(cfg.to_dict(), name=cfg.name, epochs_total=20)
    set_status(store, run_id, RunStatus.FAILED, error="It broke <here>.")
    text = report.build_html(store, run_id)
    assert chart_keys(text) == []
    assert "This run has no predictions file" in text and "No epochs were recorded." in text
    assert "could not be read again" in text and "It broke &lt;here&gt;." in text
    assert "broken &lt;run&gt;" in text


def test_a_run_without_gradient_traces_says_so(store):
    cfg = preset("seed-tutorial").replace(train={"track_gradients": False})
    run_id = store.create_run(cfg.to_dict(), epochs_total=2)
    set_status(store, run_id, RunStatus.RUNNING)
    store.add_epoch(run_id, 1, train_loss=0.5, val_loss=0.6)
    text = report.build_html(store, run_id)
    assert chart_keys(text) == ["data", "loss"]
    assert "No gradient traces were recorded for this run." in text


# -- the command line -----------------------------------------------------------------------------
def test_rnnlab_report_and_export_report_write_the_file(store, tmp_path):
    run_id = make_run(store, epochs=4)
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "x.html"
    assert cli.main(["report", run_id, "-o", str(target)], out=out, err=err) == 0, err.getvalue()
    assert out.getvalue().strip() == str(target)
    assert set(chart_keys(target.read_text())) == ALL_KEYS
    other = tmp_path / "y.html"
    assert cli.main(["export", run_id, "--report", str(other)], out=out, err=err) == 0
    assert chart_keys(other.read_text()) == chart_keys(target.read_text())


def test_rnnlab_export_without_a_target_names_the_new_ones(store):
    run_id = make_run(store, epochs=1)
    err = io.StringIO()
    assert cli.main(["export", run_id], out=io.StringIO(), err=err) == cli.EXIT_ERROR
    assert "--report x.html" in err.getvalue() and "--tensorboard DIR" in err.getvalue()
    assert "--mlflow" in err.getvalue()


def test_rnnlab_report_into_a_missing_folder_is_one_error_line(store, tmp_path):
    run_id = make_run(store, epochs=1)
    err = io.StringIO()
    code = cli.main(["report", run_id, "-o", str(tmp_path / "no" / "x.html")],
                    out=io.StringIO(), err=err)
    assert code == cli.EXIT_ERROR and err.getvalue().startswith("error: Cannot write")


@pytest.mark.parametrize("module", ["rnnlab.report", "rnnlab.export"])
def test_report_and_export_do_not_pull_in_tensorflow(module):
    code = (f"import sys, {module}; "
            "bad = sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules); "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{module} imported {proc.stdout.strip()} {proc.stderr[-500:]}"


# -- long runs stay small -------------------------------------------------------------------------
def test_shown_epochs_spread_evenly_and_keep_both_ends():
    assert report.shown_epochs(range(1, 11), 20) == list(range(1, 11))
    picked = report.shown_epochs(range(1, 1001), 50)
    assert len(picked) == 50 and picked[0] == 1 and picked[-1] == 1000
    assert picked == sorted(set(picked))


def test_a_long_window_thins_the_through_time_heatmaps(store):
    cfg = preset("seed-tutorial").replace(model={"lookback": 300, "n_layers": 1})
    run_id = make_run(store, epochs=100, cfg=cfg)
    text = report.build_html(store, run_id)
    heat = spec(text, "grad_time_input")["data"][0]
    rows = report.MAX_HEATMAP_CELLS // 300
    assert numbers(heat["customdata"]).shape == (rows, 300)
    assert numbers(heat["y"]).tolist()[::rows - 1] == [1, 100]
    assert f"{rows} of the 100 epochs are shown" in text
    assert len(text.encode()) < MAX_BYTES

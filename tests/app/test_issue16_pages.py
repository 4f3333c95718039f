"""Issue 16 on the pages: every page opens by its URL, plain words instead of jargon, the run
settings in words, the too-short warning on the Data page, Results follows the newest run."""

from __future__ import annotations

import re
import time

import pandas as pd
from streamlit.testing.v1 import AppTest

from apphelpers import APP, ROOT, TENSORS, plotly_specs, tiny_config, write_artefacts
from rnnlab.store import RunStatus
from statuses import set_status

TIMEOUT = 60


def test_the_data_page_has_its_own_url_and_the_root_opens_it(home):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Data"  # the root forwards to the Data page
    paths = {info.get("url_pathname") for info in at._registered_pages.values()}
    # a browser at /data asks for the page whose pathname is "data": it must be registered
    for path in ("data", "model", "train", "results", "gradients", "compare", "learn"):
        assert path in paths, paths


# -- the Data page ------------------------------------------------------------------------------
def _upload(body: str, name: str = "mine.csv") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.radio(key="data_kind").set_value("My own file").run()
    at.file_uploader(key="data_upload").set_value((name, body.encode(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _days(n: int, step: str = "D", start: str = "2024-01-06") -> str:
    dates = pd.date_range(start, periods=n, freq=step)
    return "date,value\n" + "".join(f"{d:%Y-%m-%d},{i % 7 + 1.5 * i}\n"
                                    for i, d in enumerate(dates))


def test_a_three_row_file_is_called_too_short_on_the_data_page(home):
    at = _upload(_days(3))
    (warning,) = [w.value for w in at.warning if "Too short to train" in w.value]
    assert "training part has 1 row" in warning and "longer series" in warning
    assert "all 3 rows" in " ".join(c.value for c in at.caption)


def test_a_short_file_gets_the_largest_lookback_that_fits(home):
    at = _upload(_days(40))
    at.session_state["run_config"]["model"].update(lookback=60, horizon=1)
    at.run()
    train = int(re.search(r"Train (\d+) rows", " ".join(c.value for c in at.caption)).group(1))
    (warning,) = [w.value for w in at.warning if "Too short to train" in w.value]
    assert f"Lower the lookback to {train - 1} or less on the Model page" in warning
    assert "lookback 60 + horizon 1 = 61 rows" in warning


def test_a_long_enough_file_has_no_warning_and_a_preview_of_all_its_rows(home):
    at = _upload(_days(187))
    at.session_state["run_config"]["model"]["lookback"] = 10
    at.run()
    assert not [w.value for w in at.warning if "Too short" in w.value]
    captions = " ".join(c.value for c in at.caption)
    assert "The cleaned table, all 187 rows" in captions and "first 200 of" not in captions


def test_a_long_file_previews_its_first_200_rows(home):
    at = _upload(_days(250))
    assert "The cleaned table, first 200 of 250 rows" in " ".join(c.value for c in at.caption)


def test_the_frequency_is_shown_in_words(home):
    at = _upload(_days(60, "W-SAT"))
    (freq,) = [m for m in at.metric if m.label == "Frequency"]
    assert freq.value == "weekly (Saturdays)"
    notes = " ".join(m.value for m in at.markdown)
    assert "W-SAT" not in notes and "W\\-SAT" not in notes


# -- Results: the settings in words, the scores explained ----------------------------------------
def _run_with(store, cfg, status=RunStatus.DONE, finished_at=None) -> str:
    """A finished run of `cfg` with scores, predictions and a forecast."""
    run_id = store.create_run(cfg.to_dict(), name=cfg.name, epochs_total=3, data_sha256="abc")
    set_status(store, run_id, RunStatus.RUNNING, started_at=time.time() - 30)
    for epoch in (1, 2, 3):
        store.add_epoch(run_id, epoch, train_loss=0.5 / epoch, val_loss=0.6 / epoch, lr=1e-3,
                        seconds=1.0, grad_norm_mean=0.3, grad_norm_max=0.9,
                        tensor_norms={t: (0.1, 0.2) for t in TENSORS}, step_norms=[0.3] * 5,
                        through_time={"input": [0.1 / (k + 1) for k in range(10)]})
    write_artefacts(store, run_id, cfg)
    scores = {"model": {"rmse": 0.1, "mae": 0.08, "mape": None, "r2": 0.9, "n": 40},
              "naive": {"rmse": 0.2, "mae": 0.16, "mape": None, "r2": 0.7, "n": 40}}
    set_status(store, run_id, status, finished_at=finished_at or time.time(),
               summary={"metrics": {"test": scores}, "skill_vs_naive": 0.5, "target": "value"})
    return run_id


def _settings(at: AppTest) -> pd.DataFrame:
    """The table of the run's settings."""
    return next(d.value for d in at.dataframe if "setting" in d.value.columns)


def _results(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page("views/results.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_settings_of_an_uploaded_lstm_run_are_words_without_paths_or_other_cells(home, store):
    upload = str(home / "uploads" / "0123abcd" / "shop sales.csv")
    cfg = tiny_config("upload run").replace(data={"source": upload, "target": "sales"},
                                            train={"clipnorm": None})
    run_id = _run_with(store, cfg)
    at = _results({"run": run_id})
    table = _settings(at)
    words = dict(zip(table["setting"], table["value"]))
    assert words["Data"] == "shop sales.csv"
    assert words["Cell"] == "LSTM" and words["Column to forecast"] == "sales"
    assert words["Gradient clipping (by norm)"] == "off"
    assert words["Date column"] == "detected automatically"
    text = table.to_string()
    for word in ("Reservoir", "Spectral radius", "Leak rate", "Ridge", str(home), "uploads"):
        assert word not in text, word
    assert not set(table["value"]) & {"None", "null", "nan", ""}
    assert set(table.loc[table["setting"] == "Layers", "changed"]) == {"changed"}  # 1, not 2
    (raw,) = at.get("json")
    assert str(home) not in raw.proto.body and "uploads" not in raw.proto.body
    assert "shop sales.csv" in raw.proto.body
    assert "Settings of this run as JSON" in [e.label for e in at.expander]


def test_an_echo_state_run_shows_its_reservoir_and_no_training_settings(home, store):
    cfg = tiny_config("esn run", cell="esn")
    run_id = _run_with(store, cfg)
    table = _settings(_results({"run": run_id}))
    settings = set(table["setting"])
    assert {"Reservoir size", "Spectral radius", "Leak rate", "Random seed"} <= settings
    assert not settings & {"Layers", "Dropout", "Epochs", "Learning rate", "Optimizer"}


def test_the_scores_are_defined_next_to_the_table(finished_runs):
    at = _results({"run": finished_runs["lstm"]})
    (glossary,) = [e for e in at.expander if e.label == "What these scores mean"]
    text = " ".join(m.value for m in glossary.markdown)
    for name in ("RMSE", "MAE", "MAPE", "R²", "Skill vs naive"):
        assert f"**{name}" in text, name
    assert "root mean squared error" in text and "mean absolute error" in text


def test_the_loss_is_on_a_log_scale_when_it_falls_over_decades(home, store):
    cfg = tiny_config("steep")
    run_id = store.create_run(cfg.to_dict(), name="steep", epochs_total=3)
    set_status(store, run_id, RunStatus.RUNNING)
    for epoch, loss in ((1, 5.0), (2, 0.02), (3, 0.01)):
        store.add_epoch(run_id, epoch, train_loss=loss, val_loss=loss)
    set_status(store, run_id, RunStatus.DONE, summary={})
    at = _results({"run": run_id})
    assert at.toggle(key=f"results_log_y_{run_id}").value is True
    assert plotly_specs(at)["results_loss_chart"]["layout"]["yaxis"]["type"] == "log"


# -- Gradients: weights in words, clipping only when there is some -------------------------------
def _gradients(run_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["run"] = run_id
    at.run()
    at.switch_page("views/gradients.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_gradients_name_weights_in_words_and_keep_keras_names_in_the_hover(finished_runs):
    at = _gradients(finished_runs["lstm"])
    heat = next(spec for key, spec in plotly_specs(at).items() if key.startswith("grad_tensor"))
    trace = heat["data"][0]
    assert list(trace["y"]) == ["layer 1 · input weights", "layer 1 · recurrent weights",
                                "layer 1 · bias", "output layer · input weights",
                                "output layer · bias"]
    assert [row[0] for row in trace["text"]] == TENSORS and "%{text}" in trace["hovertemplate"]
    captions = " ".join(c.value for c in at.caption)
    assert "red dashed" in captions  # the tiny runs clip at 1.0
    assert "|∂loss/∂x_t|" in captions and "L2 norm" in captions
    titles = [spec["layout"]["title"]["text"] for spec in plotly_specs(at).values()]
    assert not any("∂" in t for t in titles)


def test_no_clipping_caption_on_a_run_without_clipping(home, store):
    run_id = _run_with(store, tiny_config("unclipped").replace(train={"clipnorm": None}))
    at = _gradients(run_id)
    captions = " ".join(c.value for c in at.caption)
    assert "red dashed" not in captions and "clipping threshold" not in captions
    steps = next(s for k, s in plotly_specs(at).items() if k.startswith("grad_steps"))
    assert "clipping" not in steps["layout"]["title"]["text"]


# -- the toolbar ----------------------------------------------------------------------------------
def test_the_deploy_button_is_hidden():
    import tomllib

    from streamlit import config as st_config

    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        mode = tomllib.load(f)["client"]["toolbarMode"]
    assert mode in ("viewer", "minimal")
    assert mode in st_config._config_options_template["client.toolbarMode"].description


# -- the run Results opens ------------------------------------------------------------------------
def _via_sidebar(at: AppTest, page: str = "views/results.py") -> AppTest:
    """Go to a page as the sidebar's link does: without the ?run= of the page before."""
    at.query_params.clear()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_results_opens_the_run_started_or_finished_since_the_last_pick(home, store):
    first = _run_with(store, tiny_config("first"), finished_at=time.time() - 100)
    second = _run_with(store, tiny_config("second"), finished_at=time.time() - 50)
    at = _results()
    assert at.selectbox(key="results_run").value == second      # the newest
    at.selectbox(key="results_run").set_value(first).run()       # the user looks at an older one
    _via_sidebar(at, "views/train.py")
    _via_sidebar(at)
    assert at.selectbox(key="results_run").value == first        # still the user's pick
    _via_sidebar(at, "views/train.py")
    third = _run_with(store, tiny_config("third"))               # trained since the pick
    _via_sidebar(at)
    assert at.selectbox(key="results_run").value == third
    _via_sidebar(at, "views/gradients.py")
    assert at.selectbox(key="grad_run").value == third           # Gradients follows as well


def test_a_run_just_started_is_the_one_results_opens(home, store):
    done = _run_with(store, tiny_config("done"), finished_at=time.time() - 100)
    at = _results()
    at.selectbox(key="results_run").set_value(done).run()
    _via_sidebar(at, "views/train.py")
    time.sleep(0.01)
    queued = store.create_run(tiny_config("waiting").to_dict(), name="waiting", epochs_total=3)
    store.update_run(queued, cancel_requested=True)  # stays queued: no worker claims it
    _via_sidebar(at)
    assert at.selectbox(key="results_run").value == queued
    at.selectbox(key="results_run").set_value(done).run()        # a pick after it wins again
    _via_sidebar(at, "views/train.py")
    _via_sidebar(at)
    assert at.selectbox(key="results_run").value == done


def test_the_missing_values_figure_counts_every_column_from_the_loaders_data(home):
    """12 columns with gaps: the Data page's figure sums all of them (the cleaning report's
    sentence lists only the first ten), from the counts the loader keeps as data."""
    n = 60
    rows = ["date," + ",".join(f"c{j}" for j in range(12))]
    for i, d in enumerate(pd.date_range("2024-01-01", periods=n, freq="D")):
        rows.append(f"{d:%Y-%m-%d}," + ",".join("" if i == j + 3 else f"{i + j}"
                                                for j in range(12)))
    at = _upload("\n".join(rows) + "\n")
    (shown,) = [m.value for m in at.metric if m.label == "Missing values"]
    assert shown == "12"

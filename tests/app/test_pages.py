"""Every page renders (empty store, finished runs); behaviour driven through widget keys."""

from __future__ import annotations

import math
import os
from pathlib import Path
import subprocess
import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from apphelpers import (APP, PAGES, ROOT, add_finished_run, open_page, plotly_specs, tiny_config,
                        values)
from rnnlab import ui
from rnnlab.store import RunStatus
from statuses import set_status

TIMEOUT = 60


def assert_clean(at: AppTest) -> None:
    """No exception element on the page."""
    assert not at.exception, [e.value for e in at.exception]


# -- smoke: every page, empty and with runs ---------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_an_empty_store(home, page):
    at = open_page(page)
    assert_clean(at)
    assert at.title, f"{page} has no title"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_finished_runs(finished_runs, page):
    at = open_page(page)
    assert_clean(at)
    assert not at.error or page == "views/results.py", [e.value for e in at.error]


def test_the_sidebar_names_the_dataset_and_counts_runs(finished_runs, store):
    waiting = store.create_run({"model": {}}, name="waiting")
    store.update_run(waiting, cancel_requested=True)  # stays queued: no worker claims it
    at = open_page(PAGES[0])
    text = " ".join(m.value for m in at.sidebar.markdown)
    assert "Noisy sine wave" in text
    assert "**0** training" in text and "**1** queued" in text and "4 finished" in text


def test_the_sidebar_follows_a_dataset_picked_on_the_page(home):
    at = open_page("views/data.py")
    at.radio(key="data_sample").set_value("seattle_weather.csv").run()
    text = " ".join(m.value for m in at.sidebar.markdown)
    assert "Seattle weather" in text and ui.md("temp_max") in text


def test_the_web_process_never_imports_tensorflow(finished_runs, home):
    code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from streamlit.testing.v1 import AppTest
import app  # noqa: F401  (the entry page as a module, outside Streamlit)
at = AppTest.from_file({APP!r}, default_timeout=120)
at.run()
for page in {PAGES!r}:
    at.switch_page(page)
    at.run()
    assert not at.exception, (page, [e.value for e in at.exception])
bad = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print("LOADED", bad)
sys.exit(1 if bad else 0)
"""
    env = {**os.environ, "RNNLAB_HOME": str(home), "RNNLAB_EXECUTOR": "process"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "LOADED []" in proc.stdout


# -- data ---------------------------------------------------------------------------------------
def test_picking_a_sample_sets_its_columns_and_season(home):
    at = open_page("views/data.py")
    at.radio(key="data_sample").set_value("airline_passengers.csv").run()
    assert_clean(at)
    data = at.session_state["run_config"]["data"]
    assert data["source"] == "airline_passengers.csv"
    assert data["target"] == "Passengers" and data["season"] == 12
    assert at.selectbox(key="data_target").value == "Passengers"
    spec = plotly_specs(at)["data_series_chart"]
    assert spec["data"][0]["name"] == "Passengers"
    bands = [s["name"] for s in spec["layout"]["shapes"] if s.get("type") == "rect"]
    assert bands == ["train", "val", "test"]


def test_data_choices_go_into_the_config(home):
    at = open_page("views/data.py")
    at.radio(key="data_sample").set_value("seattle_weather.csv").run()
    at.selectbox(key="data_target").set_value("temp_min").run()
    at.multiselect(key="data_features").set_value(["temp_max", "wind"]).run()
    at.selectbox(key="data_scaling").set_value("standard").run()
    at.slider(key="data_test").set_value(20).run()
    assert_clean(at)
    data = at.session_state["run_config"]["data"]
    assert (data["target"], data["features"], data["scaling"]) == ("temp_min",
                                                                   ["temp_max", "wind"],
                                                                   "standard")
    assert data["test_fraction"] == pytest.approx(0.2)
    shapes = plotly_specs(at)["data_series_chart"]["layout"]["shapes"]
    assert [s["name"] for s in shapes if s.get("type") == "rect"] == ["train", "val", "test"]


def test_a_broken_upload_shows_the_engines_message_not_a_traceback(home):
    at = open_page("views/data.py")
    at.radio(key="data_kind").set_value("My own file").run()
    at.file_uploader(key="data_upload").set_value(
        ("broken.csv", b"name;comment\nfoo;bar\nbaz;qux\n", "text/csv")).run()
    assert_clean(at)
    assert at.error, "a broken file must show an error"
    assert "broken.csv" in at.error[0].value and "cannot be used" in at.error[0].value
    assert at.session_state["run_config"]["data"]["source"] == "noisy_sine.csv"


def test_a_good_upload_becomes_the_active_dataset(home):
    rows = "\n".join(f"2024-01-{d:02d},{d * 1.5},{d % 3}" for d in range(1, 29))
    at = open_page("views/data.py")
    at.radio(key="data_kind").set_value("My own file").run()
    at.file_uploader(key="data_upload").set_value(
        ("sales.csv", f"day,sales,promo\n{rows}\n".encode(), "text/csv")).run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    source = at.session_state["run_config"]["data"]["source"]
    assert source.endswith("sales.csv") and (home / "uploads").is_dir()
    assert at.selectbox(key="data_target").value == "sales"


def test_a_file_that_lists_planned_inputs_ahead_shows_those_rows_outside_every_part(home):
    """The last 4 months have price and promo but no sales: the split counts leave them out,
    as a run does, the chart draws no made-up sales there, and the page says what they are for."""
    raw = (Path(__file__).resolve().parents[1] / "data" / "planned_inputs.csv").read_bytes()
    at = open_page("views/data.py")
    at.radio(key="data_kind").set_value("My own file").run()
    at.file_uploader(key="data_upload").set_value(("plan.csv", raw, "text/csv")).run()
    assert_clean(at)
    assert at.selectbox(key="data_target").value == "sales"
    split = [c.value for c in at.caption if c.value.startswith("Train ")]
    assert split and split[0].startswith("Train 28 rows · validation 4 · test 4; the last 4 rows "
                                         "have no sales: a run leaves them out")
    assert "with extra input columns" in split[0]
    chart = next(spec for spec in plotly_specs(at).values()
                 if "sales over time" in str(spec["layout"].get("title")))
    sales = values([t for t in chart["data"] if t.get("name") == "sales"][0]["y"])
    assert all(math.isnan(v) for v in sales[-4:]) and sales[-5] == 212


# -- model --------------------------------------------------------------------------------------
def test_model_settings_go_into_the_config_and_the_summary(home):
    at = open_page("views/model.py")
    at.number_input(key="model_layers").set_value(2).run()
    at.number_input(key="model_units").set_value(16).run()
    at.selectbox(key="model_cell").set_value("gru").run()
    at.toggle(key="train_clipnorm_on").set_value(True).run()
    assert_clean(at)
    cfg = at.session_state["run_config"]
    assert (cfg["model"]["n_layers"], cfg["model"]["units"], cfg["model"]["cell"]) == (2, 16, "gru")
    assert cfg["train"]["clipnorm"] == 1.0
    summary = at.dataframe[0].value
    # the sample's advice turned the linear path on (a straight line beats naive on its
    # validation rows), and the layer table shows it
    assert cfg["model"]["linear_skip"] is True
    assert list(summary["layer"]) == ["gru_1", "gru_2", "window_flat", "dense", "linear_skip",
                                      "forecast"]
    assert at.metric[0].value == f"{int(summary['parameters'].sum()):,}"
    assert "model_diagram" in plotly_specs(at)


def test_the_linear_path_goes_into_the_config_and_the_layer_table(home):
    at = open_page("views/model.py")
    assert at.toggle(key="model_linear_skip").value is True          # advised for the sample
    why = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "A straight-line forecast from each 50-step window" in why
    at.toggle(key="model_linear_skip").set_value(False).run()
    assert_clean(at)
    assert at.session_state["run_config"]["model"]["linear_skip"] is False
    assert "Suggested for this data: on" in " ".join(c.value for c in at.caption).replace("\\", "")
    assert list(at.dataframe[0].value["layer"])[-1] == "dense"
    at.toggle(key="model_linear_skip").set_value(True).run()
    layers = list(at.dataframe[0].value["layer"])
    assert layers[-3:] == ["dense", "linear_skip", "forecast"] and "window_flat" in layers


def test_every_model_control_explains_itself(home):
    at = open_page("views/model.py")
    widgets = [*at.selectbox, *at.number_input, *at.slider, *at.toggle]
    assert len(widgets) >= 15
    for widget in widgets:
        assert widget.key, widget
        assert widget.help, f"{widget.key} has no help"


def test_settings_survive_leaving_the_page(home):
    at = open_page("views/model.py")
    at.number_input(key="model_lookback").set_value(12).run()
    at.switch_page("views/data.py").run()
    at.switch_page("views/model.py").run()
    assert at.number_input(key="model_lookback").value == 12


def test_a_preset_link_loads_the_seed_tutorial(home):
    at = open_page("views/model.py", {"preset": "seed-tutorial"})
    assert_clean(at)
    cfg = at.session_state["run_config"]
    assert cfg["data"]["source"] == "google_stock_price_train.csv"
    assert at.number_input(key="model_layers").value == 4
    assert at.number_input(key="model_units").value == 50


def test_the_load_preset_button_replaces_every_setting(home):
    at = open_page("views/model.py")
    at.number_input(key="model_units").set_value(5).run()
    at.selectbox(key="model_preset").set_value("seed-tutorial").run()
    at.button(key="model_apply_preset").click().run()
    assert_clean(at)
    assert at.number_input(key="model_units").value == 50
    assert at.query_params["preset"] == "seed-tutorial"
    assert any("Loaded the preset" in s.value for s in at.success)


def test_use_these_settings_copies_a_runs_config(finished_runs):
    at = open_page("views/results.py", {"run": finished_runs["simple"]})
    at.button(key="results_use_config").click().run()
    assert any("Settings copied from the run" in s.value for s in at.success)
    at.switch_page("views/model.py").run()
    assert at.selectbox(key="model_cell").value == "simple_rnn"
    assert at.number_input(key="model_lookback").value == 10


def test_the_code_expander_shows_the_exported_script(home):
    at = open_page("views/model.py")
    assert any("keras" in c.value for c in at.code), "the exported script is shown"


# -- train --------------------------------------------------------------------------------------
@pytest.mark.timeout(300)
def test_train_queues_a_run_that_trains_in_process_and_is_listed(home):
    from rnnlab import jobs
    from rnnlab.store import Store

    at = open_page("views/data.py")
    at.radio(key="data_sample").set_value("noisy_sine.csv").run()
    at.switch_page("views/model.py").run()
    at.number_input(key="model_layers").set_value(2).run()
    assert at.session_state["run_config"]["model"]["n_layers"] == 2
    at.number_input(key="model_layers").set_value(1).run()
    at.number_input(key="model_units").set_value(4).run()
    at.number_input(key="model_lookback").set_value(10).run()
    at.number_input(key="train_epochs").set_value(2).run()
    at.switch_page("views/train.py").run()
    at.text_input(key="runs_name").input("tiny").run()
    at.button(key="runs_submit").click().run()
    assert_clean(at)
    store = Store(home)
    (run,) = store.list_runs()
    assert run.name == "tiny" and run.epochs_total == 2
    assert jobs.get_runner(store).wait_idle(timeout=240)
    at.run()
    assert_clean(at)
    assert store.get_run(run.id).status == RunStatus.DONE, store.get_run(run.id).error
    listed = " ".join(m.value for m in at.markdown)
    assert "tiny" in listed and run.id in listed
    loss = plotly_specs(at)["runs_loss_chart"]
    train_trace = next(t for t in loss["data"] if t["name"].startswith("train"))
    assert values(train_trace["x"]) == [1, 2]


def test_train_shows_a_config_error_instead_of_queueing(home):
    at = open_page("views/model.py")
    at.number_input(key="model_lookback").set_value(2000).run()
    at.switch_page("views/train.py").run()
    at.button(key="runs_submit").click().run()
    assert_clean(at)
    assert at.error and "lookback" in at.error[0].value


def test_delete_asks_first_then_removes_the_run(finished_runs, store):
    run_id = finished_runs["failed"]
    at = open_page("views/train.py")
    at.button(key=f"runs_delete_{run_id}").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key=f"runs_delete_no_{run_id}").click().run()
    assert store.get_run(run_id)
    at.button(key=f"runs_delete_{run_id}").click().run()
    at.button(key=f"runs_delete_yes_{run_id}").click().run()
    assert_clean(at)
    assert run_id not in [r.id for r in store.list_runs()]


def test_cancel_a_queued_run_then_resume_it(store, home):
    run_id = store.create_run(tiny_config("later").to_dict(), name="later", epochs_total=3)
    set_status(store, run_id, RunStatus.CANCELLED, finished_at=1.0)
    at = open_page("views/train.py")
    at.button(key=f"runs_resume_{run_id}").click().run()
    assert_clean(at)
    assert store.get_run(run_id).status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.DONE)


def test_cancel_asks_a_running_run_to_stop(store):
    run_id = store.create_run(tiny_config("busy").to_dict(), name="busy", epochs_total=3)
    now = time.time()  # a live pid and a fresh heartbeat: the runner leaves it running
    set_status(store, run_id, RunStatus.RUNNING, started_at=now, heartbeat_at=now,
                     pid=os.getpid())
    at = open_page("views/train.py")
    at.button(key=f"runs_cancel_{run_id}").click().run()
    assert_clean(at)
    assert store.cancel_requested(run_id)


# -- results ------------------------------------------------------------------------------------
def test_results_show_predictions_with_the_naive_baseline(finished_runs):
    at = open_page("views/results.py", {"run": finished_runs["lstm"]})
    assert_clean(at)
    assert at.selectbox(key="results_run").value == finished_runs["lstm"]
    names = [t["name"] for t in plotly_specs(at)["results_pred_chart"]["data"]]
    assert names[:3] == ["actual", "model", "naive (last value)"]
    assert any("0.5× the naive forecast" in m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert list(table["predictor"])[:2] == ["the model", "naive (last value)"]
    at.radio(key="results_kind").set_value("free-running").run()
    spec = plotly_specs(at)["results_pred_chart"]
    assert "Free-running" in spec["layout"]["title"]["text"]
    # the path's own scores, each baseline run forward the same way
    assert any(m.value.startswith("**Free-running over the 40 test steps.** The model ")
               for m in at.markdown)
    assert any("The model loses to the best baseline, linear autoregression: its error is "
               "2.5× that baseline's." in m.value.replace("\\", "") for m in at.markdown)
    tables = [getattr(d.value, "data", d.value) for d in at.dataframe]   # a Styler's frame
    free = [t for t in tables if "linear autoregression" in set(t.get("predictor", ()))]
    assert len(free) == 1                          # the one-step table has no linear row here
    table = free[0]
    assert list(table["predictor"]) == ["the model", "naive (last value)",
                                        "linear autoregression", "mean of training data"]
    assert table["RMSE"].iloc[0] == "0.05"
    assert len(values(spec["data"][0]["x"])) == 40
    assert {"results_resid_chart", "results_forecast_chart"} <= set(plotly_specs(at))
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Model (.keras)", "Model for new data (.zip)", "Keras script (.py)",
                      "Predictions (.csv)", "Forecast (.csv)", "Settings (.json)",
                      "Report (.html)"]


def test_results_say_how_training_ended_and_which_weights_the_run_kept(finished_runs, store):
    ended = ("Early stopping at epoch 24: the validation loss had not improved for 20 epochs; "
             "kept the weights of epoch 4. Run forward over the validation rows on its own "
             "forecasts, the starting weights (the linear path's least-squares fit) erred 19.93 "
             "against 20.49 for epoch 4's, so the run keeps the starting weights instead.")
    kept = add_finished_run(store, name="kept its start", message=ended)
    at = open_page("views/results.py", {"run": kept})
    assert_clean(at)
    assert [c.value.replace("\\", "") for c in at.caption
            if c.value.startswith(":material/flag:")] == [
        f":material/flag: {ended}"]
    plain = open_page("views/results.py", {"run": finished_runs["lstm"]})
    assert not [c for c in plain.caption if c.value.startswith(":material/flag:")]


def test_the_forecast_says_which_steps_read_the_inputs_the_file_gave(store):
    def info(**kw):
        at = open_page("views/results.py", {"run": add_finished_run(store, **kw)})
        assert_clean(at)
        return [c.value for c in at.caption if "forecast" in c.value and "price" in c.value]

    given = info(name="planned", features=("price",), future_inputs=4)
    assert len(given) == 1 and "The file gives price for the first 4 forecast steps" in given[0]
    assert "holds them at their last given values after that" in given[0]   # 4 of 30 steps
    held = info(name="held", features=("price",))
    assert len(held) == 1 and "is unknown, so this forecast holds them" in held[0]
    assert "value left empty" in held[0]           # how to give their future: the target's name
    assert not info(name="alone")


def test_results_downloads_read_the_files_on_click_and_say_when_one_is_missing(finished_runs,
                                                                               store):
    at = open_page("views/results.py", {"run": finished_runs["lstm"]})
    buttons = {b.proto.label: b for b in at.get("download_button")}
    model, preds = buttons["Model (.keras)"], buttons["Predictions (.csv)"]
    assert not model.proto.disabled and model.proto.deferred_file_id
    assert not preds.proto.disabled and preds.proto.deferred_file_id
    store.artefact(finished_runs["simple"], "model.keras").unlink()
    at = open_page("views/results.py", {"run": finished_runs["simple"]})
    model = at.get("download_button")[0]
    assert model.proto.disabled and "no saved model" in model.proto.help


def test_a_failed_run_shows_its_message_and_traceback(finished_runs):
    at = open_page("views/results.py", {"run": finished_runs["failed"]})
    assert_clean(at)
    assert ui.md("ValueError: boom") in at.error[0].value
    assert any("Traceback" in c.value for c in at.code)


def test_a_diverged_run_explains_itself(finished_runs):
    at = open_page("views/results.py", {"run": finished_runs["diverged"]})
    assert_clean(at)
    assert "clipnorm" in at.warning[0].value


def test_the_results_page_writes_the_run_into_the_link(finished_runs):
    at = open_page("views/results.py")
    assert at.query_params["run"] == at.selectbox(key="results_run").value


# -- gradients ----------------------------------------------------------------------------------
def test_gradient_heatmaps_show_tensors_and_steps_back(finished_runs):
    at = open_page("views/gradients.py", {"run": finished_runs["lstm"]})
    assert_clean(at)
    specs = plotly_specs(at)
    tensors = specs["grad_tensor_chart_a"]["data"][0]
    assert tensors["type"] == "heatmap"
    assert "layer 1 · recurrent weights" in values(tensors["y"])  # Keras's name in the hover
    time_map = specs["grad_time_chart_a"]["data"][0]
    assert time_map["type"] == "heatmap" and values(time_map["x"]) == list(range(1, 11))
    steps = specs["grad_steps_chart_a"]
    assert any("clip" in (t.get("name") or "") for t in steps["data"])
    at.selectbox(key="grad_series").set_value("layer_1").run()
    assert "layer 1" in plotly_specs(at)["grad_time_chart_a"]["layout"]["title"]["text"]


def test_gradients_side_by_side(finished_runs):
    at = open_page("views/gradients.py", {"run": finished_runs["lstm"]})
    at.radio(key="grad_mode").set_value("Two runs side by side").run()
    at.selectbox(key="grad_run_b").set_value(finished_runs["simple"]).run()
    assert_clean(at)
    specs = plotly_specs(at)
    assert {"grad_tensor_chart_a", "grad_tensor_chart_b", "grad_time_chart_b"} <= set(specs)
    a, b = specs["grad_time_chart_a"]["data"][0], specs["grad_time_chart_b"]["data"][0]
    assert (a["zmin"], a["zmax"]) == (b["zmin"], b["zmax"])  # one colour scale for both
    at.toggle(key="grad_same_scale").set_value(False).run()
    specs = plotly_specs(at)
    a, b = specs["grad_time_chart_a"]["data"][0], specs["grad_time_chart_b"]["data"][0]
    assert a["zmin"] != b["zmin"]


# -- compare ------------------------------------------------------------------------------------
def test_compare_overlays_losses_and_highlights_the_best(finished_runs, store):
    picked = [finished_runs["lstm"], finished_runs["simple"]]
    at = open_page("views/compare.py", {"runs": ",".join(picked)})
    assert_clean(at)
    assert at.multiselect(key="compare_runs").value == picked
    names = {t["name"] for t in plotly_specs(at)["compare_loss_chart"]["data"]}
    assert len(names) == 4  # train and validation of each run
    table = at.dataframe[0].value
    assert "Cell" in table.columns and "name" not in table.columns  # settings named in words
    assert "tiny LSTM" in at.success[0].value  # rmse 0.1 beats 0.18


def test_best_run_ignores_failed_runs(store):
    add_finished_run(store, "good", rmse=0.12)   # beats naive (0.2): it can be crowned
    add_finished_run(store, "bad", status=RunStatus.FAILED, rmse=0.01)
    at = open_page("views/compare.py")
    at.multiselect(key="compare_runs").set_value([r.id for r in store.list_runs()]).run()
    assert "good" in at.success[0].value


def test_the_echo_state_network_shows_its_own_settings(home):
    at = open_page("views/model.py")
    at.selectbox(key="model_cell").set_value("esn").run()
    assert_clean(at)
    keys = {w.key for w in at.number_input}
    assert {"model_reservoir", "model_spectral_radius", "train_seed"} <= keys
    assert "model_layers" not in keys and "train_epochs" not in keys
    assert list(at.dataframe[0].value["layer"]) == ["reservoir", "readout"]


# -- a shared password ---------------------------------------------------------------------------
def test_a_password_keeps_the_app_closed_without_its_gate(home, monkeypatch):
    """`streamlit run app.py` with a password: the script alone cannot guard uploads and media,
    so it shows only how to start the server behind its gate (tests/e2e/test_security.py)."""
    monkeypatch.setenv("RNNLAB_PASSWORD", "tea-time")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert not at.selectbox and not at.text_input, "nothing of the app shows"
    assert "serve.py" in at.error[0].value and "RNNLAB_PASSWORD" in at.error[0].value


def test_a_link_to_the_model_page_gets_the_datas_advice_too(home):
    """Opened first, the Model page shows the advised lookback and epochs (noisy sine: its
    season of 50 rows, up to 200 epochs), as if the Data page had been opened first."""
    from rnnlab import advise

    at = open_page("views/model.py")
    assert_clean(at)
    assert at.number_input(key="model_lookback").value == 50
    assert at.number_input(key="train_epochs").value == advise.EPOCHS
    assert at.session_state["run_config"]["data"]["season"] == 50

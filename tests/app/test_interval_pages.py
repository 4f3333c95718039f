"""Results draws a run's prediction intervals as a band and says how much of the test part they
covered; a sweep group shows its grid."""

import pandas as pd

from apphelpers import add_finished_run, open_page, plotly_specs
from rnnlab.store import RunStatus, Store
from statuses import set_status


def with_intervals(store: Store, run_id: str) -> None:
    """Give a finished fake run the bands and summary the worker writes."""
    path = store.artefact(run_id, "predictions.csv")
    pred = pd.read_csv(path)
    pred["lower_80"], pred["upper_80"] = pred["model"] - 0.1, pred["model"] + 0.1
    pred["lower_95"], pred["upper_95"] = None, None
    pred.to_csv(path, index=False)
    path = store.artefact(run_id, "forecast.csv")
    fc = pd.read_csv(path)
    fc["lower_80"], fc["upper_80"] = fc["forecast"] - 0.2, fc["forecast"] + 0.2
    fc.to_csv(path, index=False)
    run = store.get_run(run_id)
    summary = {**run.summary, "intervals": {"n_one_step": 14, "levels": {
        "80": {"level": 0.8, "one_step": [0.1], "free_running": [0.2] * 30,
               "free_running_measured": 30,
               "coverage_one_step": 0.75, "coverage_free_running": 0.6},
        "95": {"level": 0.95, "one_step": [None], "free_running": [None] * 30,
               "coverage_one_step": None, "coverage_free_running": None}}}}
    store.update_run(run_id, summary=summary)


def test_results_draws_the_band_and_says_the_coverage(home):
    store = Store(home)
    run_id = add_finished_run(store, "with bands")
    with_intervals(store, run_id)
    at = open_page("views/results.py", {"run": run_id})
    assert not at.exception
    band = at.selectbox(key="results_band")
    assert band.options == ["no band", "80 % interval"] and band.value == "80"
    names = [t.get("name") for t in plotly_specs(at)["results_pred_chart"]["data"]]
    assert "80 % interval" in names
    fc = [t.get("name") for t in plotly_specs(at)["results_forecast_chart"]["data"]]
    assert "80 % interval" in fc
    text = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "the 80 % interval (±0.1 one step ahead) covered 75 % of the test values" in text
    assert "a 95 % interval needs 19 validation windows (14 here)" in text
    assert "likely too narrow" not in text           # the fake run measured all 30 steps
    band.set_value("none").run()
    names = [t.get("name") for t in plotly_specs(at)["results_pred_chart"]["data"]]
    assert "80 % interval" not in names


def test_a_run_without_intervals_has_no_band_control(home):
    store = Store(home)
    run_id = add_finished_run(store, "no bands")
    at = open_page("views/results.py", {"run": run_id})
    assert not at.exception
    assert not [s for s in at.selectbox if s.key == "results_band"]


def test_a_sweep_group_shows_its_grid_on_results(home):
    from rnnlab import jobs
    from rnnlab.config import RunConfig

    store = Store(home)
    cfg = RunConfig(name="grid").replace(train={"epochs": 3})
    group_id, ids = jobs.submit_sweep(store, cfg, {"units": [4, 8], "dropout": [0.0, 0.2]},
                                      check_data=False)
    for i, run_id in enumerate(ids):
        set_status(store, run_id, RunStatus.DONE, summary={
            "skill_vs_naive": 0.1 * i, "metrics": {"test": {"model": {"rmse": 1.0 - 0.1 * i}}}})
    at = open_page("views/results.py", {"run": ids[0]})
    assert not at.exception
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "Best: units 8, dropout 0.2, median skill +0.30" in text
    spec = plotly_specs(at)["group_sweep_results"]
    assert spec["data"][0]["type"] == "heatmap"


def test_results_shows_a_backtest_group(home):
    from rnnlab import jobs
    from rnnlab.config import RunConfig

    store = Store(home)
    cfg = RunConfig(name="air").replace(
        data={"source": "airline_passengers.csv", "target": "Passengers"},
        model={"lookback": 12}, train={"epochs": 3})
    group_id, ids = jobs.submit_backtest(store, cfg, 3)
    for run_id, (rmse, naive) in zip(ids, [(10.0, 12.0), (20.0, 16.0), (9.0, 15.0)]):
        set_status(store, run_id, RunStatus.DONE, summary={
            "skill_vs_naive": 1 - rmse / naive, "metrics": {"test": {
                "model": {"rmse": rmse, "n": 14}, "naive": {"rmse": naive, "n": 14}}}})
    at = open_page("views/results.py", {"run": ids[-1]})
    assert not at.exception
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "2 of 3 folds beat the naive forecast" in text
    assert plotly_specs(at)["group_backtest_results"]["data"][0]["type"] == "bar"


def no_runner(monkeypatch):
    import types

    from rnnlab import ui

    monkeypatch.setattr(ui, "runner", lambda: types.SimpleNamespace(concurrency=1))


def test_the_train_page_queues_a_sweep_after_saying_its_size(home, monkeypatch):
    no_runner(monkeypatch)
    at = open_page("views/train.py")
    assert not at.exception
    at.selectbox(key="sweep_first").set_value("units").run()
    at.text_input(key="sweep_values_units").set_value("4, 8, 16").run()
    at.selectbox(key="sweep_second").set_value("dropout").run()
    at.text_input(key="sweep_values2_dropout").set_value("0, 0.2").run()
    at.selectbox(key="sweep_seeds").set_value(2).run()
    text = " ".join(c.value for c in at.caption)
    assert "12 runs" in text and "time unknown until a run has finished here" in text
    at.button(key="sweep_submit").click().run()
    assert not at.exception and not at.error
    runs = Store(home).list_runs()
    assert len(runs) == 12 and {r.group_kind for r in runs} == {"sweep"}


def test_a_bad_sweep_value_says_what_to_type_and_queues_nothing(home, monkeypatch):
    no_runner(monkeypatch)
    at = open_page("views/train.py")
    at.selectbox(key="sweep_first").set_value("units").run()
    at.text_input(key="sweep_values_units").set_value("4, lots").run()
    assert "'lots' is not" in " ".join(w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "sweep_submit"]
    assert Store(home).list_runs() == []


def test_a_big_sweep_asks_first(home, monkeypatch):
    no_runner(monkeypatch)
    at = open_page("views/train.py")
    at.selectbox(key="sweep_first").set_value("units").run()
    at.text_input(key="sweep_values_units").set_value("2, 4, 8, 16, 32, 64").run()
    at.selectbox(key="sweep_second").set_value("dropout").run()
    at.text_input(key="sweep_values2_dropout").set_value("0, 0.1, 0.2, 0.3, 0.4").run()
    at.selectbox(key="sweep_seeds").set_value(2).run()                # 60 runs
    assert at.button(key="sweep_submit").disabled
    at.checkbox(key="sweep_sure").check().run()
    assert not at.button(key="sweep_submit").disabled


def test_the_train_page_queues_a_backtest(home, monkeypatch):
    no_runner(monkeypatch)
    at = open_page("views/train.py")
    at.selectbox(key="backtest_folds").set_value(3).run()
    at.button(key="backtest_submit").click().run()
    assert not at.exception and not at.error
    runs = Store(home).list_runs()
    assert len(runs) == 3 and {r.group_kind for r in runs} == {"backtest"}


def test_a_band_carried_past_its_measured_steps_says_so(home):
    store = Store(home)
    run_id = add_finished_run(store, "short validation")
    with_intervals(store, run_id)
    run = store.get_run(run_id)
    summary = run.summary
    summary["intervals"]["levels"]["80"]["free_running_measured"] = 5
    store.update_run(run_id, summary=summary)
    at = open_page("views/results.py", {"run": run_id})
    text = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "measure the 80 % band for the first 5 forecast steps" in text

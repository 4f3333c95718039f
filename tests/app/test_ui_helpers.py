"""The pure helpers behind the pages (no Streamlit session needed)."""

import math

import pytest

from apphelpers import add_finished_run, tiny_config
from rnnlab import ui
from rnnlab.store import RunStatus
from rnnlab.ui import process
from views import compare, results


def test_fmt_seconds():
    assert [ui.fmt_seconds(s) for s in (None, 4.4, 65, 3725)] == ["—", "4 s", "1 min 05 s",
                                                                  "1 h 02 min"]


def test_metrics_table_orders_model_first_with_skill_vs_naive():
    table = ui.metrics_table({"mean": {"rmse": 0.7}, "naive": {"rmse": 0.2},
                              "model": {"rmse": 0.1, "mape": None}})
    assert list(table["predictor"]) == ["the model", "naive (last value)",
                                        "mean of training data"]
    assert table["skill vs naive"].tolist() == pytest.approx([0.5, 0.0, -2.5])


def test_skill_sentence_prefers_the_engines_words():
    assert ui.skill_sentence({"sentence": "As the engine says."}) == "As the engine says."
    words = ui.skill_sentence({"metrics": {"test": {"model": {"rmse": 0.36},
                                                    "naive": {"rmse": 0.2}}}})
    assert words.startswith("The model's error is 1.8× the naive forecast's")


def test_differing_settings_keeps_only_what_differs():
    a = tiny_config("a").to_dict()
    b = tiny_config("b", cell="gru", units=4).to_dict()
    frame = compare.differing_settings({"a": a, "b": b})
    assert sorted(frame.columns) == ["model.cell", "model.units"]
    assert frame.loc["b", "model.cell"] == "gru"


def test_best_run_ignores_missing_and_nan():
    assert ui.best_run({"a": None, "b": math.nan, "c": 0.3, "d": 0.2}) == "d"
    assert ui.best_run({"a": None}) is None


def test_run_score_only_ranks_finished_runs(store):
    done = store.get_run(add_finished_run(store, rmse=0.3))
    failed = store.get_run(add_finished_run(store, status=RunStatus.FAILED))
    assert ui.run_score(done, store.epochs(done.id)) == (0.3, "test RMSE")
    assert ui.run_score(failed, store.epochs(failed.id)) == (None, "")


def test_source_label_names_samples_and_uploads():
    assert ui.source_label("noisy_sine.csv") == "Noisy sine wave"
    assert ui.source_label("/x/uploads/0123456789abcdef/sales.csv") == "sales.csv"
    assert ui.script_data_hint("noisy_sine.csv") is None
    assert ui.script_data_hint("/x/uploads/0123456789abcdef/sales.csv") == "sales.csv"


def test_share_colour_scale_spans_both_heatmaps():
    import plotly.graph_objects as go

    one = go.Figure(go.Heatmap(z=[[0, 1]], zmin=-3.0, zmax=-1.0))
    two = go.Figure(go.Heatmap(z=[[0, 1]], zmin=-2.0, zmax=0.5))
    ui.share_colour_scale([one, two])
    for fig in (one, two):
        assert (fig.data[0].zmin, fig.data[0].zmax) == (-3.0, 0.5)
        assert list(fig.data[0].colorbar.tickvals) == [-3, -2, -1, 0]
        assert list(fig.data[0].colorbar.ticktext) == ["0.001", "0.01", "0.1", "1"]


def test_a_shared_scale_over_many_decades_keeps_its_colour_bar_readable():
    import plotly.graph_objects as go

    figs = [go.Figure(go.Heatmap(z=[[0, 1]], zmin=-18.0, zmax=-2.0)),
            go.Figure(go.Heatmap(z=[[0, 1]], zmin=-6.0, zmax=-1.5))]
    ui.share_colour_scale(figs)
    ticks = list(figs[0].data[0].colorbar.tickvals)
    assert len(ticks) <= ui.MAX_COLOUR_TICKS and ticks[0] == -18
    assert all(-18 <= t <= -1.5 for t in ticks) and ticks == sorted(ticks)
    assert figs[1].data[0].colorbar.ticktext[0] == "1e-18"


def test_the_store_follows_rnnlab_home_and_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "a"))
    first = ui.store()
    assert first.home == (tmp_path / "a").resolve()
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "b"))
    assert ui.store().home == (tmp_path / "b").resolve()
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "a"))
    assert ui.store() is first
    monkeypatch.delenv("RNNLAB_HOME")
    for folder in ("c", "d"):  # a relative home is under the working folder of the moment
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        assert ui.store().home == (tmp_path / folder / ".rnnlab").resolve()


def test_the_app_freezes_its_start_up_heap_once(home, monkeypatch):
    import gc

    from streamlit.testing.v1 import AppTest

    from apphelpers import APP

    freezes = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(gc.get_count()))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.run()
    assert not at.exception
    assert len(freezes) <= 1  # once per process (maybe already, by an earlier test's app)
    before = len(freezes)
    process._prepared_process.clear()  # as in a new process
    AppTest.from_file(APP, default_timeout=60).run()
    assert len(freezes) == before + 1


def test_artefact_reader_reads_the_file_when_called(store):
    run_id = add_finished_run(store)
    read = results.artefact_reader(run_id, "model.keras")
    store.artefact(run_id, "model.keras").write_bytes(b"written after the page ran")
    assert read() == b"written after the page ran"
    assert results.artefact_reader(run_id, "forecast.json") is None

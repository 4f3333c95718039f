"""Seeds groups on the Train and Results pages, and the Compare page's ranking rules."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apphelpers import APP, PAGES, add_finished_run, plotly_specs, values, write_artefacts
from apphelpers import open_page as open_any
from groupfake import add_seed_group, group_config, loss_curves
from rnnlab import groups, ui
from rnnlab.store import RunStatus, Store

TIMEOUT = 60
RMSES = [0.18, 0.25, 0.16, 0.21, 0.12]


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = open_any(page, query, TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


@pytest.fixture
def no_runner(monkeypatch):
    """Queued runs stay queued: no runner starts in this process (a stand-in says how many
    runs would train at a time, as the Train page's estimates ask)."""
    import types

    stand_in = types.SimpleNamespace(concurrency=1)
    monkeypatch.setattr(ui, "runner", lambda: stand_in)


# -- Train --------------------------------------------------------------------------------------
def test_one_seed_keeps_the_single_run_path(home, store, no_runner):
    at = open_page("views/train.py")
    assert at.selectbox(key="runs_seeds").value == 1
    assert at.button(key="runs_submit").label == "Train"
    at.button(key="runs_submit").click().run()
    (run,) = store.list_runs()
    assert run.group_id == "" and run.status == RunStatus.QUEUED


def test_train_times_three_seeds_queues_one_group(home, store, no_runner):
    at = open_page("views/train.py")
    at.selectbox(key="runs_seeds").set_value(3).run()
    assert at.button(key="runs_submit").label == "Train × 3 seeds"
    at.button(key="runs_submit").click().run()
    assert not at.exception and not at.error
    runs = store.list_runs()
    assert len(runs) == 3 and len({r.group_id for r in runs}) == 1 and runs[0].group_id
    seed = min(r.config["train"]["seed"] for r in runs)
    assert sorted(r.config["train"]["seed"] for r in runs) == [seed, seed + 1, seed + 2]
    group_id = runs[0].group_id
    at.run()
    assert at.button(key=f"runs_cancel_group_{group_id}")     # one item for the group
    assert "None of the 3 seeds has finished yet" in shown(at)
    at.button(key=f"runs_cancel_group_{group_id}").click().run()
    assert {r.status for r in store.list_runs()} == {RunStatus.CANCELLED}


def test_a_finished_group_is_one_item_on_the_train_page(store):
    group_id, ids = add_seed_group(store, RMSES)
    add_finished_run(store, "alone")
    at = open_page("views/train.py")
    sentence = groups.sentence(store.group_runs(group_id))
    assert ui.md(sentence) in shown(at)
    label = store.get_run(ids[0]).group_label
    assert sum(ui.md(label) in m.value for m in at.markdown) == 1
    assert f"group_loss_{group_id}" not in plotly_specs(at)     # drawn on demand only
    at.toggle(key=f"runs_group_details_{group_id}").set_value(True).run()
    assert f"group_loss_{group_id}" in plotly_specs(at)


# -- Results ------------------------------------------------------------------------------------
def test_results_of_a_seed_shows_its_group_first(store):
    curves = loss_curves(len(RMSES), 6, seed=9)
    group_id, ids = add_seed_group(store, RMSES, curves=curves, artefacts=write_artefacts)
    at = open_page("views/results.py", {"run": ids[2]})
    assert not at.error
    runs = store.group_runs(group_id)
    assert any("Group:" in h.value for h in at.header)
    assert f"### {ui.md(groups.sentence(runs))}" in [m.value for m in at.markdown]
    assert any("seed 44 of the group" in c.value for c in at.caption)
    assert any(h.value == "This run: seed 44" for h in at.header)
    table = next(d.value for d in at.dataframe if "Seed" in d.value.columns)
    assert list(table["Seed"]) == [42, 43, 44, 45, 46]
    np.testing.assert_allclose(table["Skill vs naive"], 1 - np.array(RMSES) / 0.2)
    spec = plotly_specs(at)["group_loss_results"]
    median = next(t for t in spec["data"] if t["name"] == "train loss (median)")
    np.testing.assert_allclose(values(median["y"]), np.median(curves[:, :, 0], axis=0))
    band = next(t for t in spec["data"] if t["name"] == "validation lowest to highest")
    np.testing.assert_allclose(values(band["y"]), curves[:, :, 1].max(axis=0))
    assert "results_pred_chart" in plotly_specs(at)    # the run itself still follows


def test_results_of_a_single_run_shows_no_group(finished_runs):
    at = open_page("views/results.py", {"run": finished_runs["lstm"]})
    assert not any("Group:" in h.value for h in [*at.header, *at.subheader])


# -- Compare ------------------------------------------------------------------------------------
def test_compare_preselects_runs_on_the_newest_runs_data(store):
    same = add_finished_run(store, "sine one", rmse=0.1)
    other_cfg = group_config("co2", source="co2.csv", target="co2")
    _, (other, _) = add_seed_group(store, [0.1, 0.1], cfg=other_cfg)
    newest = add_finished_run(store, "sine two", rmse=0.15)
    at = open_page("views/compare.py")
    assert at.multiselect(key="compare_runs").value == [newest, same]
    assert other not in at.multiselect(key="compare_runs").value


def test_compare_ranks_no_runs_on_different_data(store):
    a = add_finished_run(store, "sine", rmse=0.1)
    _, (b, _) = add_seed_group(store, [0.05, 0.05],
                               cfg=group_config("co2", source="co2.csv", target="co2"))
    at = open_page("views/compare.py", {"runs": f"{a},{b}"})
    assert not at.success, "no trophy across datasets"
    note = " ".join(i.value for i in at.info)
    assert "No best run" in note and "cannot be ranked" in note and "skill vs naive" in note
    table = at.dataframe[0].value
    assert "Data" in table.columns and table["Data"].nunique() == 2


def test_compare_crowns_no_run_that_loses_to_naive(store):
    ids = [add_finished_run(store, "worse", rmse=0.25), add_finished_run(store, "bad", rmse=0.3)]
    at = open_page("views/compare.py", {"runs": ",".join(ids)})
    assert not at.success
    assert any("none of these runs does better than the naive forecast" in w.value
               for w in at.warning)


def test_a_best_run_that_loses_to_another_baseline_says_so(store):
    ids = [add_finished_run(store, "ok", rmse=0.18), add_finished_run(store, "meh", rmse=0.19)]
    at = open_page("views/compare.py", {"runs": ",".join(ids)})
    assert "ok" in at.success[0].value
    assert any("does better still" in w.value for w in at.warning)   # seasonal naive: 0.15


def test_compare_names_settings_in_words(store):
    cfg = group_config("a")
    first = add_finished_run(store, "a", rmse=0.1)
    second = store.create_run(cfg.replace(train={"epochs": 9},
                                          data={"date_column": "when"}).to_dict(), name="b",
                              data_sha256="abc")
    at = open_page("views/compare.py", {"runs": f"{first},{second}"})
    columns = list(at.dataframe[0].value.columns)
    assert {"Epochs", "Date column", "Clip gradient norm"} <= set(columns), columns
    assert not any("." in c for c in columns), columns


# -- Compare: groups as groups ------------------------------------------------------------------
def test_compare_ranks_groups_on_the_same_data_by_their_median(store):
    steady, _ = add_seed_group(store, [0.10, 0.12, 0.11], cfg=group_config("GRU steady"))
    lucky, _ = add_seed_group(store, [0.05, 0.30, 0.25], cfg=group_config("LSTM lucky", seed=7))
    at = open_page("views/compare.py")
    at.multiselect(key="compare_groups").set_value([steady, lucky]).run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert list(table["runs"]) == [3, 3]
    # medians by numpy: skill = 1 − rmse / 0.2
    assert table["median skill vs naive"].tolist() == pytest.approx(
        [1 - np.median([0.10, 0.12, 0.11]) / 0.2, 1 - np.median([0.05, 0.30, 0.25]) / 0.2])
    best = " ".join(s.value for s in at.success)
    assert "Best group: GRU steady" in best and "even its worst run beats naive" in best
    assert "compare_groups_chart" in plotly_specs(at)


def test_compare_ranks_no_groups_across_datasets(store):
    a, _ = add_seed_group(store, [0.1, 0.1], cfg=group_config("sine"))
    b, _ = add_seed_group(store, [0.05, 0.05],
                          cfg=group_config("co2", source="co2.csv", target="co2"))
    at = open_page("views/compare.py")
    at.multiselect(key="compare_groups").set_value([a, b]).run()
    assert not [s for s in at.success if "Best group" in s.value]
    assert "not ranked" in " ".join(i.value for i in at.info)

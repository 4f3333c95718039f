"""Run groups: the store's group columns and their migration, queueing a seeds group as one
action, the group's sentence and its loss band (checked against numpy), the CLI, ranking."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import time

import numpy as np
import pytest

from groupfake import NAIVE_RMSE, add_seed_group, group_config, loss_curves
from rnnlab import cli, figures, groups, jobs, lifecycle, ranking
from rnnlab.errors import ConfigError
from rnnlab.store import SCHEMA_VERSION, RunStatus, Store

# The runs table as schema 1 made it (before run groups).
OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, heartbeat_at REAL, pid INTEGER,
    config TEXT NOT NULL, data_sha256 TEXT NOT NULL DEFAULT '',
    epochs_total INTEGER NOT NULL DEFAULT 0, epochs_done INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '{}', error TEXT, traceback TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_status ON runs(status, created_at);
INSERT INTO meta VALUES ('schema_version', '1');
"""
OLD_RUN = "r20250101-120000-abcdef"


def old_store(home) -> None:
    """A store file of schema 1 with one finished run in it."""
    home.mkdir(parents=True)
    (home / "runs" / OLD_RUN).mkdir(parents=True)
    db = sqlite3.connect(home / "rnnlab.sqlite")
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO runs (id, name, status, created_at, config, summary, epochs_total, "
               "epochs_done) VALUES (?, 'old run', 'done', ?, ?, ?, 3, 3)",
               (OLD_RUN, time.time() - 100, json.dumps({"train": {"seed": 1}}),
                json.dumps({"skill_vs_naive": 0.3})))
    db.commit()
    db.close()


# -- the store ----------------------------------------------------------------------------------
def test_an_old_store_gains_the_group_columns_and_keeps_its_runs(tmp_path):
    old_store(tmp_path / "old")
    store = Store(tmp_path / "old")
    assert store.schema_version() == SCHEMA_VERSION == 3
    run = store.get_run(OLD_RUN)
    assert run.name == "old run" and run.status == RunStatus.DONE
    assert (run.group_id, run.group_kind, run.group_label) == ("", "", "")
    assert run.summary == {"skill_vs_naive": 0.3}
    group_id, ids = store.create_group([{"train": {"seed": s}} for s in (1, 2)], kind="seeds",
                                       label="x × 2 seeds", names=["a", "b"])
    assert [r.id for r in store.group_runs(group_id)] == ids
    assert [r.id for r in store.list_runs()][-1] == OLD_RUN
    Store(tmp_path / "old")                      # opening it again changes nothing
    columns = [row[1] for row in sqlite3.connect(tmp_path / "old" / "rnnlab.sqlite")
               .execute("PRAGMA table_info(runs)")]
    assert columns.count("group_id") == 1


def test_a_read_only_old_store_still_lists_its_runs(tmp_path, monkeypatch):
    old_store(tmp_path / "old")

    def refuse(self):
        raise sqlite3.OperationalError("attempt to write a readonly database")
    monkeypatch.setattr(Store, "_prepare", refuse)
    store = Store(tmp_path / "old")
    assert store.read_only
    assert [r.id for r in store.list_runs()] == [OLD_RUN]
    assert store.get_run(OLD_RUN).group_id == ""
    assert store.group_runs("g20250101-120000-abcdef") == []


def test_a_group_is_queued_in_one_transaction_and_trained_in_seed_order(store):
    group_id, ids = jobs.submit_seeds(store, group_config(seed=7), 4, check_data=False)
    assert re.fullmatch(r"g[0-9]{8}-[0-9]{6}-[0-9a-f]{6}", group_id)
    runs = store.group_runs(group_id)
    assert [r.id for r in runs] == ids
    assert [r.config["train"]["seed"] for r in runs] == [7, 8, 9, 10]
    assert {r.group_id for r in runs} == {group_id} and {r.group_kind for r in runs} == {"seeds"}
    assert runs[0].group_label == "tiny LSTM × 4 seeds (7–10)"
    assert [r.name for r in runs] == [f"tiny LSTM · seed {s}" for s in (7, 8, 9, 10)]
    assert all(r.status == RunStatus.QUEUED and r.epochs_total == 6 for r in runs)
    claimed = [lifecycle.claim_next(store) for _ in ids]
    assert claimed == ids                       # the queue takes them seed by seed


def test_a_group_that_cannot_be_written_leaves_nothing(store, monkeypatch):
    def boom(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(store, "_tx", boom)
    with pytest.raises(Exception):
        store.create_group([{}, {}], kind="seeds", label="x", names=["a", "b"])
    assert list(store.runs_dir.iterdir()) == []


@pytest.mark.parametrize("n", [0, 1, 11, 2.5, True])
def test_seeds_must_be_two_to_ten(store, n):
    with pytest.raises(ConfigError, match="2 to 10"):
        jobs.submit_seeds(store, group_config(), n, check_data=False)
    assert store.list_runs() == []


def test_an_unknown_group_id_is_refused(store):
    with pytest.raises(Exception, match="not a group id"):
        store.group_runs("../etc")


# -- the sentence -------------------------------------------------------------------------------
RMSES = [0.18, 0.25, 0.16, 0.21, 0.12]


def test_the_sentence_matches_numpy_on_the_summaries(store):
    group_id, _ = add_seed_group(store, RMSES)
    runs = store.group_runs(group_id)
    skills = np.array([r.summary["skill_vs_naive"] for r in runs])
    np.testing.assert_allclose(skills, 1 - np.array(RMSES) / NAIVE_RMSE)
    k = int((skills > 0).sum())
    med, lo, hi = np.median(skills), skills.min(), skills.max()
    expected = (f"{k} of {len(RMSES)} seeds beat the naive forecast; median skill "
                f"{med:+.2f} ({lo:+.2f} … {hi:+.2f}).").replace("-", "−")
    assert groups.sentence(runs) == expected
    assert k == 3 and expected.startswith("3 of 5 seeds beat the naive forecast; median skill +0.10")
    found = groups.stats(runs)
    assert found.rmse.median == pytest.approx(np.median(RMSES))
    assert (found.rmse.low, found.rmse.high) == (min(RMSES), max(RMSES))


def test_the_sentence_says_what_is_still_training_or_unscored(store):
    group_id, _ = add_seed_group(store, [0.1, 0.3, None, None],
                                 statuses=[RunStatus.DONE, RunStatus.DONE, RunStatus.FAILED,
                                           RunStatus.QUEUED])
    text = groups.sentence(store.group_runs(group_id))
    assert text == ("1 of 4 seeds beat the naive forecast; median skill +0.00 (−0.50 … +0.50); "
                    "1 still queued or training, 1 ended without a test score.")


def test_a_group_with_nothing_finished_says_so(store):
    group_id, _ = jobs.submit_seeds(store, group_config(), 3, check_data=False)
    assert groups.sentence(store.group_runs(group_id)) == \
        "None of the 3 seeds has finished yet (3 queued or training)."


# -- the band figure ----------------------------------------------------------------------------
def test_the_band_is_the_min_max_and_the_line_the_median_of_the_curves(store):
    curves = loss_curves(5, 8, seed=3)
    group_id, _ = add_seed_group(store, RMSES, epochs=8, curves=curves)
    fig = figures.group_loss_figure([store.curves(r.id) for r in store.group_runs(group_id)])
    traces = {t.name: t for t in fig.data}
    for j, label in enumerate(("train", "validation")):
        part = curves[:, :, j]
        np.testing.assert_allclose(traces[f"{label} loss (median)"].y,
                                   np.percentile(part, 50, axis=0))
        np.testing.assert_allclose(traces[f"{label} lowest"].y, np.percentile(part, 0, axis=0))
        np.testing.assert_allclose(traces[f"{label} lowest to highest"].y,
                                   np.percentile(part, 100, axis=0))
        assert traces[f"{label} lowest to highest"].fill == "tonexty"
        assert list(traces[f"{label} loss (median)"].x) == list(range(1, 9))


def test_the_band_counts_only_the_runs_that_reached_an_epoch():
    short = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_loss": [2.0, None]}
    long = {"epoch": [1, 2, 3], "train_loss": [3.0, 1.5, 0.2], "val_loss": [4.0, 3.0, 1.0]}
    fig = figures.group_loss_figure([short, long])
    traces = {t.name: t for t in fig.data}
    np.testing.assert_allclose(traces["train loss (median)"].y, [2.0, 1.0, 0.2])
    np.testing.assert_allclose(traces["validation loss (median)"].y, [3.0, 3.0, 1.0])
    assert figures.group_loss_figure([]).layout.title.text


# -- the command line ---------------------------------------------------------------------------
def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_submit_seeds_queues_one_group_of_consecutive_seeds(store, monkeypatch):
    monkeypatch.setattr(jobs, "check", lambda cfg: type("P", (), {"data_sha256": "feed"})())
    code, out, err = run_cli("submit", "noisy_sine.csv", "--target", "value", "--seed", "5",
                             "--epochs", "2", "--seeds", "3", "--name", "trio",
                             "--home", str(store.home))
    assert code == 0, err
    ids = out.split()
    assert len(ids) == 3
    runs = [store.get_run(i) for i in ids]
    assert len({r.group_id for r in runs}) == 1 and runs[0].group_id
    assert [r.config["train"]["seed"] for r in runs] == [5, 6, 7]
    assert all(r.status == RunStatus.QUEUED and r.data_sha256 == "feed" for r in runs)
    assert f"rnnlab show {runs[0].group_id}" in err


def test_submit_with_one_seed_is_a_single_run(store, monkeypatch):
    monkeypatch.setattr(jobs, "check", lambda cfg: type("P", (), {"data_sha256": "feed"})())
    code, out, _ = run_cli("submit", "noisy_sine.csv", "--target", "value",
                           "--home", str(store.home))
    assert code == 0
    assert store.get_run(out.strip()).group_id == ""


def test_submit_refuses_eleven_seeds(store):
    code, _, err = run_cli("submit", "noisy_sine.csv", "--seeds", "11", "--home", str(store.home))
    assert code == 2 and "2 to 10" in err
    assert store.list_runs() == []


def test_list_and_show_name_the_group_and_print_its_sentence(store):
    group_id, ids = add_seed_group(store, RMSES)
    sentence = groups.sentence(store.group_runs(group_id))
    code, out, _ = run_cli("list", "--home", str(store.home))
    assert code == 0
    assert "GROUP" in out.splitlines()[0]
    assert sum(group_id in line for line in out.splitlines()) == len(ids) + 1
    assert sentence in out
    code, out, _ = run_cli("show", ids[1], "--home", str(store.home))
    assert code == 0 and f"group     {group_id}" in out and sentence in out and "seed 43" in out
    code, out, _ = run_cli("show", group_id, "--home", str(store.home))
    assert code == 0 and sentence in out
    assert all(i in out for i in ids) and "+0.10" in out      # skill of 0.18 vs naive 0.2
    code, _, err = run_cli("show", "g20250101-120000-abcdef", "--home", str(store.home))
    assert code == 2 and "No group" in err


# -- ranking ------------------------------------------------------------------------------------
def _run(store, rmse, **cfg):
    group_id, ids = add_seed_group(store, [rmse, rmse], cfg=group_config(**cfg))
    return store.get_run(ids[0])


def test_runs_on_different_data_are_never_ranked(store):
    a = _run(store, 0.1)
    b = _run(store, 0.15, source="co2.csv", target="co2")
    found = ranking.verdict([a, b])
    assert found.kind == "different" and found.best is None
    assert found.differ == ["data", "target column"]
    assert "cannot be ranked" in found.message and "skill vs naive" in found.message


def test_no_run_that_loses_to_naive_is_crowned(store):
    found = ranking.verdict([_run(store, 0.25), _run(store, 0.3)])
    assert found.kind == "none_beat_naive" and found.best is None
    assert "none of these runs does better than the naive forecast" in found.message


def test_the_best_run_beats_naive(store):
    a, b = _run(store, 0.15), _run(store, 0.1)
    found = ranking.verdict([a, b])
    assert found.kind == "best" and found.best == b.id and "+0.50" in found.message


def test_a_single_run_that_loses_to_naive_is_said_to_lose(store):
    """The sentence for one run says it does NOT beat naive (a negation that once went missing)."""
    found = ranking.verdict([_run(store, 0.3)])
    assert found.kind == "none_beat_naive"
    assert "this run does not do better than the naive forecast" in found.message
    assert "(0 or below: no better than naive)" in found.message

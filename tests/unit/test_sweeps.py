"""Sweeps: a grid of settings (× seeds) queued as one group, and read back as a grid."""

import numpy as np
import pytest

from rnnlab import groups, jobs
from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError
from rnnlab.store import RunStatus
from statuses import set_status

BASE = RunConfig(name="try").replace(train={"epochs": 5})


@pytest.mark.parametrize("name, text, values", [
    ("units", "8, 32,128", [8, 32, 128]), ("dropout", "0; 0.2", [0.0, 0.2]),
    ("cell", "lstm, gru, lstm", ["lstm", "gru"]), ("learning_rate", "1e-3, 1e-2", [1e-3, 1e-2]),
    ("lookback", "12.0, 24", [12, 24]),
])
def test_values_are_read_from_text(name, text, values):
    assert groups.parse_values(name, text) == values


@pytest.mark.parametrize("name, text, message", [
    ("units", "8, many", "units per layer values must be whole numbers.*'many' is not"),
    ("units", "8, 8.5", "'8.5' is not"),
    ("units", "8", "2 to 6 different values"),
    ("dropout", "0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6", "2 to 6 different values"),
    ("seed", "1, 2", "'seed' cannot be swept"),
])
def test_bad_values_are_refused_with_what_to_do(name, text, message):
    with pytest.raises(ConfigError, match=message):
        groups.parse_values(name, text)


def test_a_three_by_two_grid_times_two_seeds_is_twelve_named_runs():
    axes = {"units": [8, 32, 128], "dropout": [0.0, 0.2]}
    configs = groups.sweep_configs(BASE, axes, seeds=2)
    assert len(configs) == 12 == groups.sweep_size(axes, 2)
    cells = {(c.model.units, c.model.dropout, c.train.seed) for c in configs}
    assert cells == {(u, d, s) for u in (8, 32, 128) for d in (0.0, 0.2) for s in (42, 43)}
    assert configs[0].name == "try · units 8, dropout 0 · seed 42"
    assert configs[-1].name == "try · units 128, dropout 0.2 · seed 43"
    assert groups.sweep_label("try", axes, 2) == "try: units 8/32/128 × dropout 0/0.2 × 2 seeds"


def test_grids_too_big_or_with_too_many_settings_are_refused():
    with pytest.raises(ConfigError, match="varies 1 or 2 settings"):
        groups.check_sweep({"units": [1, 2], "dropout": [0, 0.1], "lookback": [5, 6]})
    with pytest.raises(ConfigError, match="would queue 360 runs.*at most 100"):
        groups.check_sweep({"units": [1, 2, 3, 4, 5, 6], "dropout": [0, .1, .2, .3, .4, .5]}, 10)
    assert groups.check_sweep({"units": [1, 2, 3, 4, 5, 6], "dropout": [0, .1, .2, .3]}, 2) == 48


def scored(store, run_id, skill, rmse):
    set_status(store, run_id, RunStatus.DONE, summary={
        "skill_vs_naive": skill, "metrics": {"test": {"model": {"rmse": rmse}}}})


def test_a_sweep_is_queued_as_one_group_and_read_back_as_its_grid(store):
    axes = {"units": [8, 32, 128], "dropout": [0.0, 0.2]}
    group_id, ids = jobs.submit_sweep(store, BASE, axes, seeds=2, check_data=False, owner="Ada")
    runs = store.group_runs(group_id)
    assert [r.id for r in runs] == ids and len(ids) == 12
    assert {r.group_kind for r in runs} == {"sweep"} and {r.owner for r in runs} == {"Ada"}
    assert groups.sweep_axes(runs) == axes
    rng = np.random.default_rng(0)
    skills = rng.uniform(-0.3, 0.5, size=12)
    for run_id, s in zip(ids, skills):
        scored(store, run_id, float(s), float(1 - s))
    runs = store.group_runs(group_id)
    found_axes, cells = groups.sweep_cells(runs)
    assert len(cells) == 6 and found_axes == axes
    # every cell's median over its two seeds, by plain numpy on the numbers written above
    expect = {(u, d): float(np.median(skills[2 * i:2 * i + 2]))
              for i, (u, d) in enumerate((u, d) for u in (8, 32, 128) for d in (0.0, 0.2))}
    assert {c.values: c.stats.skill.median for c in cells} == pytest.approx(expect)
    best = groups.best_cell(cells)
    assert best.values == max(expect, key=expect.get)
    text = groups.sweep_sentence(runs)
    u, d = best.values
    assert text.startswith(f"Best: units {u}, dropout {d:g}, median skill ")
    assert f"{int((skills > 0).sum())} of 12 runs beat the naive forecast." in text
    table = groups.sweep_table(runs)
    assert len(table) == 6 and table[0]["units per layer"] == "8"
    assert table[0]["beat naive"] == f"{int((skills[:2] > 0).sum())} of 2"


def test_a_sweep_with_a_value_the_data_cannot_take_queues_nothing(store):
    with pytest.raises(jobs.RnnlabError):
        jobs.submit_sweep(store, BASE, {"lookback": [10, 5000]})
    assert store.list_runs() == []


def test_the_estimate_uses_the_finished_runs_pace():
    class R:
        status, epochs_done, repeat_of = RunStatus.DONE, 10, ""

        def __init__(self, elapsed):
            self.elapsed = elapsed
    runs = [R(20.0), R(40.0), R(30.0)]             # 2, 4 and 3 s per epoch: median 3
    assert groups.estimate_seconds(runs, [10] * 12, concurrency=2) == pytest.approx(180.0)
    assert groups.estimate_seconds([], [10], 1) is None


# -- the command line ---------------------------------------------------------------------------
def run_cli(*argv):
    import io

    from rnnlab import cli

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_submit_sweep_queues_the_grid_and_show_prints_it(store):
    code, out, err = run_cli("submit", "noisy_sine.csv", "--epochs", "2", "--sweep",
                             "units=4,8,16", "--sweep", "dropout=0,0.2", "--seeds", "2",
                             "--home", str(store.home))
    assert code == 0, err
    ids = out.split()
    assert len(ids) == 12 and "Queued sweep g" in err
    group_id = store.get_run(ids[0]).group_id
    for i, run_id in enumerate(ids):
        scored(store, run_id, 0.1 * i - 0.35, 1.0)
    code, out, err = run_cli("show", group_id, "--home", str(store.home))
    assert code == 0, err
    assert "units 4/8/16 × dropout 0/0.2 × 2 seeds" in out
    assert "Best: units 16, dropout 0.2, median skill +0.70 (+0.65 … +0.75) over 2 seeds" in out
    assert "8 of 12 runs beat the naive forecast." in out
    assert out.count(" of 2") == 6                    # one row per grid cell


@pytest.mark.parametrize("argv, message", [
    (("--sweep", "units"), "--sweep takes SETTING=V1,V2"),
    (("--sweep", "colour=red,blue"), "'colour' cannot be swept"),
    (("--sweep", "units=4,x"), "'x' is not"),
])
def test_a_bad_sweep_is_one_error_line(store, argv, message):
    code, out, err = run_cli("submit", "noisy_sine.csv", *argv, "--home", str(store.home))
    assert code == 2 and message in err and "Traceback" not in err
    assert store.list_runs() == []


def test_submit_answers_a_repeat_and_no_reuse_queues_it(store):
    from test_turns_and_repeats import finished_twin

    cfg = RunConfig().replace(data={"source": "noisy_sine.csv"}, train={"epochs": 3})
    finished_twin(store, cfg)
    path = store.home / "cfg.json"
    path.write_text(cfg.to_json())
    code, out, err = run_cli("submit", "--config", str(path), "--home", str(store.home))
    assert code == 0 and "Same settings, data and seed as run 'first'" in err
    assert store.get_run(out.strip()).status == RunStatus.DONE
    code, out, err = run_cli("submit", "--config", str(path), "--no-reuse", "--home",
                             str(store.home))
    assert code == 0 and store.get_run(out.strip()).status == RunStatus.QUEUED


@pytest.mark.parametrize("seconds, words", [(3, "10 seconds"), (41, "50 seconds"),
                                            (150, "2 minutes"), (4200, "1 hour 10 minutes"),
                                            (7200, "2 hours")])
def test_durations_in_words(seconds, words):
    assert groups.duration_words(seconds) == words

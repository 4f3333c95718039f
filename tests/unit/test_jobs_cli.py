"""The `rnnlab` command line without training: options, queue commands, tables, error lines."""

import io
import json
import time

import pytest

from rnnlab import cli, jobs
from rnnlab.config import RunConfig, preset
from rnnlab.store import RunStatus
from statuses import set_status


def run_cli(*argv):
    """(exit status, stdout, stderr) of one command."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _args(*argv):
    return cli.build_parser().parse_args(["train", *argv])


def _queued(store, **changes):
    cfg = RunConfig().replace(train={"epochs": 4}, **changes)
    return jobs.submit(store, cfg, check_data=False)


def test_options_become_a_run_config():
    cfg = cli.build_config(_args("noisy_sine.csv", "--target", "value", "--cell", "gru",
                                 "--layers", "2", "--units", "16,8", "--dropout", "0.2",
                                 "--lookback", "12", "--horizon", "3", "--epochs", "5",
                                 "--batch-size", "16", "--optimizer", "sgd", "--lr", "0.01",
                                 "--loss", "huber", "--clipnorm", "1", "--seed", "7",
                                 "--val", "0.2", "--test", "0.15", "--scaling", "standard",
                                 "--name", "mine", "--no-gradients"))
    assert cfg.data.source == "noisy_sine.csv" and cfg.data.target == "value"
    assert (cfg.data.val_fraction, cfg.data.test_fraction, cfg.data.scaling) == (0.2, 0.15, "standard")
    assert cfg.model.cell == "gru" and cfg.model.units_per_layer == (16, 8)
    assert cfg.model.dropout == 0.2 and (cfg.model.lookback, cfg.model.horizon) == (12, 3)
    t = cfg.train
    assert (t.epochs, t.batch_size, t.optimizer, t.learning_rate, t.loss) == (5, 16, "sgd", 0.01, "huber")
    assert (t.clipnorm, t.seed, t.track_gradients) == (1.0, 7, False)
    assert cfg.name == "mine"


def test_a_preset_with_an_override():
    cfg = cli.build_config(_args("--preset", "seed-tutorial", "--epochs", "2"))
    assert cfg.train.epochs == 2
    assert cfg.model == preset("seed-tutorial").model
    assert cfg.data.target == "Open"


def test_a_config_file_as_the_base(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(RunConfig().replace(model={"units": 3}).to_json())
    assert cli.build_config(_args("--config", str(path))).model.units == 3


def test_a_file_path_is_made_absolute(tmp_path, monkeypatch):
    (tmp_path / "mine.csv").write_text("a\n1\n")
    monkeypatch.chdir(tmp_path)
    assert cli.build_config(_args("mine.csv")).data.source == str(tmp_path / "mine.csv")


@pytest.mark.parametrize("argv, message", [
    (["train"], "error: Give a data file"),
    (["train", "x.csv", "--epochs", "0"], "error: epochs must be in [1, 5000]. Received: epochs=0"),
    (["train", "x.csv", "--epochs", "ten"], "error: argument --epochs: invalid int value: 'ten'"),
    (["train", "--preset", "nope"], "error: Unknown preset 'nope'"),
    (["train", "--config", "/no/such.json"], "error: Cannot read the config file /no/such.json"),
    (["show", "r20260101-000000-abcdef"], "error: No run 'r20260101-000000-abcdef'"),
    (["show", "../etc"], "error: '../etc' is not a run id"),
    (["cancel", "r20260101-000000-abcdef"], "error: No run"),
    (["frobnicate"], "error: argument COMMAND: invalid choice"),
])
def test_mistakes_print_one_error_line_and_exit_2(argv, message, capsys):
    try:
        code, out, err = run_cli(*argv)
    except SystemExit as exc:  # argparse's own checks exit from parse_args
        code, err = exc.code, capsys.readouterr().err
    assert code == 2
    assert err.startswith(message), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_list_shows_status_and_progress(store):
    code, out, _ = run_cli("list")
    assert code == 0 and "No runs in" in out
    done = _queued(store, name="finished one")
    running = _queued(store)
    store.claim_next_queued()
    set_status(store, done, RunStatus.DONE, epochs_done=4, finished_at=time.time(),
                     summary={"metrics": {"test": {"model": {"rmse": 0.125}}}, "skill_vs_naive": 0.4})
    store.claim_next_queued()
    store.add_epoch(running, 1, train_loss=0.3)
    code, out, _ = run_cli("list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:5] == ["RUN", "STATUS", "EPOCHS", "ELAPSED", "ETA"]
    by_id = {line.split()[0]: line for line in lines[1:]}
    assert "done" in by_id[done] and "4/4" in by_id[done] and "0.125" in by_id[done]
    assert "+0.40" in by_id[done] and "finished one" in by_id[done]
    assert "running" in by_id[running] and "1/4" in by_id[running]
    code, out, _ = run_cli("list", "--status", "running")
    assert done not in out and running in out


def test_show_prints_config_metrics_epochs_and_error(store):
    run_id = _queued(store)
    store.claim_next_queued()
    for epoch in (1, 2):
        store.add_epoch(run_id, epoch, train_loss=1.0 / epoch, seconds=0.5, grad_norm_mean=0.1)
    set_status(store, run_id, RunStatus.FAILED, error="ValueError: boom",
                     traceback="Traceback (most recent call last):\n  File x\nValueError: boom")
    code, out, _ = run_cli("show", run_id)
    assert code == 0
    assert f"run       {run_id}" in out and "status    failed, epoch 2/4" in out
    assert "error     ValueError: boom" in out
    assert '"epochs": 4' in out
    assert "last epochs" in out and "0.5" in out
    assert "traceback (last lines)" in out and "File x" in out


def test_result_table_has_model_and_baselines_with_skill():
    test = {"model": {"rmse": 1.0, "mae": 0.8, "mape": 5.0, "n": 10},
            "naive": {"rmse": 2.0, "mae": 1.5, "mape": None, "n": 10},
            "mean": {"rmse": 4.0, "mae": 3.0, "mape": 20.0, "n": 10}}
    lines = cli.result_table(test).splitlines()
    assert lines[0].split()[-6:] == ["RMSE", "MAE", "MAPE", "SKILL", "VS", "NAIVE"]
    model, naive, mean = lines[1].split(), lines[2].split(), lines[3].split()
    assert model == ["model", "1", "0.8", "5.0%", "+0.50"]
    assert naive[-3:] == ["1.5", "-", "+0.00"]
    assert mean[-1] == "-1.00"


def test_cancel_resume_and_rm(store):
    first, second = _queued(store), _queued(store)
    code, out, _ = run_cli("cancel", first)
    assert code == 0 and "cancelled" in out
    assert store.get_run(first).status == RunStatus.CANCELLED
    code, out, _ = run_cli("resume", first)
    assert code == 0 and "from the start" in out
    assert store.get_run(first).status == RunStatus.QUEUED
    code, _, err = run_cli("resume", second)
    assert code == 2 and "only interrupted or cancelled" in err
    code, out, _ = run_cli("rm", first, second)
    assert code == 0 and store.list_runs() == []


def test_submit_needs_data_it_can_read(store, tmp_path):
    code, _, err = run_cli("submit", str(tmp_path / "missing.csv"))
    assert code == 2 and err.startswith("error: ")
    assert store.list_runs() == []


def test_export_refuses_a_run_without_a_model(store, tmp_path):
    run_id = _queued(store)
    code, _, err = run_cli("export", run_id, "--model", str(tmp_path / "m.keras"))
    assert code == 2 and "has no model.keras (it is queued)" in err
    code, _, err = run_cli("export", run_id)
    assert code == 2 and "Say what to export" in err


def test_export_writes_the_script_and_copies_artefacts(store, tmp_path):
    run_id = _queued(store)
    store.artefact(run_id, "predictions.csv").write_text("split,kind\n")
    code, out, _ = run_cli("export", run_id, "--script", str(tmp_path / "x.py"),
                           "--predictions", str(tmp_path / "p.csv"))
    assert code == 0, out
    assert "import keras" in (tmp_path / "x.py").read_text()
    assert (tmp_path / "p.csv").read_text() == "split,kind\n"


def test_home_option_picks_the_store(tmp_path):
    other = tmp_path / "elsewhere"
    code, out, _ = run_cli("--home", str(other), "list")
    assert code == 0 and str(other) in out
    code, out, _ = run_cli("list", "--home", str(other))
    assert code == 0 and str(other) in out


def test_progress_line_and_non_tty_progress(store):
    run_id = _queued(store)
    store.claim_next_queued()
    stream = io.StringIO()
    progress = cli.Progress(store, run_id, stream)
    for epoch in range(1, 5):
        store.add_epoch(run_id, epoch, train_loss=0.5)
        progress.draw()
        progress.draw()  # nothing new: no new line
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert lines[-1].startswith("epoch 4/4 [########################] 100%")
    assert "loss 0.5" in lines[-1]


def test_durations_read_naturally():
    assert [cli._duration(s) for s in (None, 4.4, 65, 3725)] == ["-", "4 s", "1 min 05 s", "1 h 02 min"]


def test_serve_names_the_app_and_home(store, monkeypatch):
    calls = []
    monkeypatch.setattr(cli.subprocess, "call", lambda cmd, **kw: calls.append((cmd, kw)) or 0)
    monkeypatch.setattr(cli, "APP_FILE", cli.Path(__file__))  # any existing file
    assert run_cli("serve", "--port", "8600")[0] == 0
    cmd, kw = calls[0]
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[-2:] == ["--server.port", "8600"]
    assert kw["env"]["RNNLAB_HOME"] == str(store.home.resolve())


def test_serve_starts_the_dashboard_behind_its_gate():
    assert cli.APP_FILE.name == "serve.py" and cli.APP_FILE.is_file()
    assert "rnnlab.gate" in cli.APP_FILE.read_text()


def test_serve_without_app_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "APP_FILE", tmp_path / "app.py")
    code, _, err = run_cli("serve")
    assert code == 2 and "app.py is not at" in err


def test_every_setting_of_a_run_config_has_a_cli_option():
    """The option table is checked against the config's own fields, so a new setting cannot be
    left out of the CLI."""
    from dataclasses import fields

    from rnnlab.config import DataConfig, ModelConfig, TrainConfig

    offered = {(section, field) for _, section, field, _ in cli.RUN_OPTIONS}
    offered.add(("data", "source"))          # the positional FILE
    for section, cls in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
        missing = {f.name for f in fields(cls)} - {f for s, f in offered if s == section}
        assert missing == set(), (section, missing)


def test_the_echo_state_and_text_column_options_reach_the_config():
    cfg = cli.build_config(_args("noisy_sine.csv", "--cell", "esn", "--leak-rate", "0.5",
                                 "--input-scaling", "2", "--ridge", "0.01",
                                 "--categorical", "onehot", "--no-advice"))
    assert (cfg.model.leak_rate, cfg.model.input_scaling, cfg.model.ridge) == (0.5, 2.0, 0.01)
    assert cfg.data.categorical == "onehot"

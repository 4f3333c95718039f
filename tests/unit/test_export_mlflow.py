"""`rnnlab export RUN --mlflow URI`: read back through MLflow's own client, the run holds the
store's settings, epoch curves, final scores and files."""

import io
import re

import pytest

pytest.importorskip("mlflow")

from mlflow.tracking import MlflowClient  # noqa: E402

from fake_run import make_run  # noqa: E402
from rnnlab import cli, export  # noqa: E402

pytestmark = pytest.mark.mlflow
EPOCHS = 5


@pytest.fixture
def logged(store, tmp_path, monkeypatch):
    """A run logged with `rnnlab export RUN --mlflow DIR`; (rnnlab run id, client, MLflow run)."""
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)  # restored after the test
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run_id = make_run(store, epochs=EPOCHS)
    folder = tmp_path / "mlruns"
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["export", run_id, "--mlflow", str(folder)], out=out, err=err)
    assert code == 0, err.getvalue()
    uri, ml_id = re.search(r"^mlflow\s+(\S+)\s+run (\w+)$", out.getvalue(), re.M).groups()
    assert uri == folder.resolve().as_uri() and folder.is_dir()
    client = MlflowClient(tracking_uri=uri)
    return run_id, client, client.get_run(ml_id)


def test_params_are_the_runs_settings(store, logged):
    run_id, _, mlrun = logged
    run = store.get_run(run_id)
    params = mlrun.data.params
    assert params == {k: str(v) for k, v in export.hparams(run).items()}
    assert params["model.cell"] == "lstm" and params["model.units"] == "50"
    assert params["data.test_source"] == "google_stock_price_test.csv"
    assert mlrun.data.tags["rnnlab.run_id"] == run_id
    assert mlrun.info.run_name == run.name[:250]
    assert mlrun.info.status == "FINISHED"


def test_epoch_metrics_equal_the_store(store, logged):
    run_id, client, mlrun = logged
    curves = store.curves(run_id)
    for column in export.EPOCH_SCALARS:
        history = sorted(client.get_metric_history(mlrun.info.run_id, column), key=lambda m: m.step)
        assert [m.step for m in history] == curves["epoch"], column
        assert [m.value for m in history] == curves[column], column
    rows = [r for r in store.tensor_norms(run_id) if r["tensor"] == "lstm_2/recurrent_kernel"]
    history = client.get_metric_history(mlrun.info.run_id, "grad_tensor.lstm_2/recurrent_kernel.max")
    assert sorted((m.step, m.value) for m in history) == [(r["epoch"], r["max"]) for r in rows]


def test_final_metrics_equal_the_summary(store, logged):
    run_id, _, mlrun = logged
    summary = store.get_run(run_id).summary
    metrics = mlrun.data.metrics
    for predictor, scores in summary["metrics"]["test"].items():
        for key in ("rmse", "mae", "mape", "r2"):
            assert metrics[f"test.{predictor}.{key}"] == scores[key]
    assert metrics["skill_vs_naive"] == summary["skill_vs_naive"]
    assert metrics["epochs_done"] == EPOCHS


def test_artefacts_are_the_runs_files_and_the_report(store, logged, tmp_path):
    run_id, client, mlrun = logged
    names = {f.path for f in client.list_artifacts(mlrun.info.run_id)}
    assert {"predictions.csv", "forecast.csv", "model.keras", "report.html", "script.py",
            "config.json"} <= names
    local = client.download_artifacts(mlrun.info.run_id, "predictions.csv", str(tmp_path))
    assert open(local, "rb").read() == store.artefact(run_id, "predictions.csv").read_bytes()
    page = open(client.download_artifacts(mlrun.info.run_id, "report.html", str(tmp_path))).read()
    assert 'id="chart-loss"' in page


def test_logging_twice_makes_two_runs_in_one_experiment(store, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    run_id = make_run(store, epochs=2)
    uri1, first = export.to_mlflow(store, run_id, str(tmp_path / "ml"), report=False)
    uri2, second = export.to_mlflow(store, run_id, str(tmp_path / "ml"), report=False)
    assert uri1 == uri2 and first != second
    client = MlflowClient(tracking_uri=uri1)
    experiment = client.get_experiment_by_name(export.MLFLOW_EXPERIMENT)
    assert len(client.search_runs([experiment.experiment_id])) == 2

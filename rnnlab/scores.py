"""A model's scores beside its baselines' on one part of the data, as table rows: RMSE, MAE,
MAPE, R² and the skill against the naive forecast (1 - RMSE / RMSE of naive)."""

from __future__ import annotations

from rnnlab.predictors import PREDICTORS

METRIC_COLUMNS = {"rmse": "RMSE", "mae": "MAE", "mape": "MAPE %", "r2": "R²"}


def metrics_rows(split_metrics: dict) -> list[dict]:
    """Model then baselines: key, predictor label, RMSE, MAE, MAPE, R², skill (raw numbers)."""
    naive = (split_metrics.get("naive") or {}).get("rmse")
    order = [n for n in PREDICTORS if n in split_metrics]
    order += [n for n in split_metrics if n not in order]
    rows = []
    for name in order:
        scores = split_metrics[name]
        if not isinstance(scores, dict):
            continue
        row = {"key": name, "predictor": PREDICTORS.get(name, name)}
        row.update({k: scores.get(k) for k in METRIC_COLUMNS})
        rmse = scores.get("rmse")
        row["skill"] = (1 - rmse / naive) if (naive and rmse is not None) else None
        rows.append(row)
    return rows

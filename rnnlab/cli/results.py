"""What a run or a group came to, on a terminal: scores against the baselines, the group's
sentence and runs, the settings chosen from the data, and the exit status it makes."""

from __future__ import annotations

from typing import TextIO

from rnnlab.cli.exits import EXIT_INTERRUPTED, EXIT_RUN_FAILED
from rnnlab.cli.tables import indent, num, progress_text, signed, table
from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.predictors import TABLE_LABELS
from rnnlab.store import RunRecord, RunStatus, Store

BASELINE_LABELS = TABLE_LABELS   # the model as "model", each baseline by its label


def print_result(run: RunRecord, out: TextIO, *, header: bool = True) -> None:
    """The run's test scores, model vs baselines, and the sentence that says what they mean."""
    summary = run.result
    if header:
        extra = []
        if summary.seconds_per_epoch:
            extra.append(f"{summary.seconds_per_epoch:.2f} s/epoch")
        if summary.params:
            extra.append(f"{summary.params:,} parameters")
        print(f"\nRun {run.id} {run.status.value}: {run.epochs_done}/{run.epochs_total} epochs"
              + (f", {', '.join(extra)}" if extra else "") + ".", file=out)
    test = summary.test_metrics
    if not test:
        if summary.message:
            print(summary.message, file=out)
        return
    print(indent(result_table(test)), file=out)
    from rnnlab.intervals import coverage_sentence

    for line in (summary.headline, summary.sentence, coverage_sentence(summary)):
        if line:
            print(line, file=out)
    for note in summary.notes or []:
        print(note, file=out)


def result_table(test: dict, title: str = "TEST ({n} values)") -> str:
    """Rows model and baselines; columns RMSE, MAE, MAPE, skill vs naive (1 - RMSE/RMSE_naive)."""
    naive = (test.get("naive") or {}).get("rmse")
    rows = [[title.format(n=(test.get("model") or {}).get("n", "?")), "RMSE", "MAE",
             "MAPE", "SKILL VS NAIVE"]]
    for key, label in BASELINE_LABELS.items():
        scores = test.get(key)
        if not scores:
            continue
        skill = 1.0 - scores["rmse"] / naive if naive else None
        mape = f"{scores['mape']:.1f}%" if scores.get("mape") is not None else "-"
        rows.append([label, num(scores["rmse"]), num(scores["mae"]), mape, signed(skill)])
    return table(rows)


def print_free_running(store: Store, run_id: str, out: TextIO) -> None:
    """The free-running forecast of the test part against each baseline's path, as on the
    Results page; nothing when the run has no readable free-running rows."""
    import pandas as pd

    from rnnlab import evaluate
    from rnnlab.artefacts import FREE_RUN, PREDICTIONS

    path = store.artefact(run_id, PREDICTIONS)
    try:
        pred = pd.read_csv(path)
        rows = pred[(pred["split"] == "test") & (pred["kind"] == FREE_RUN)].sort_values("step")
        scores = evaluate.path_scores(rows)
    except (OSError, ValueError, KeyError):          # no file, or one without these columns
        return
    if "model" not in scores or "naive" not in scores:
        return
    print("\nfree-running (each forecast fed back; each baseline run forward the same way)",
          file=out)
    print(indent(result_table(scores, "TEST ({n} steps)")), file=out)
    print(evaluate.headline(scores, evaluate.best_baseline(scores)), file=out)


def print_group(store: Store, group_id: str, out: TextIO) -> None:
    """A group: its name, its sentence, and one line per run (seed, status, test RMSE, skill)."""
    from rnnlab import groups

    runs = store.group_runs(group_id)
    if not runs:
        raise RnnlabError(f"No group {group_id!r} in {store.home}. `rnnlab list` shows the "
                          "groups of runs in its GROUP column.")
    print(f"group     {group_id}  {runs[0].group_label}", file=out)
    if runs[0].group_kind == "backtest":
        print(f"result    {groups.backtest_sentence(runs)}", file=out)
        rows = [["FOLD", "ROWS UP TO", "RUN", "STATUS", "TEST RMSE", "NAIVE RMSE", "SKILL"]]
        for row, run in zip(groups.backtest_rows(runs), runs):
            rows.append([row["fold"], row["rows up to"], run.id, row["status"],
                         num(row["test RMSE"]), num(row["naive RMSE"]),
                         signed(row["skill vs naive"])])
        print(indent(table(rows, align="rrlllrr")), file=out)
        return
    if runs[0].group_kind == "sweep":
        print(f"result    {groups.sweep_sentence(runs)}", file=out)
        grid = groups.sweep_table(runs)
        keys = list(grid[0]) if grid else []
        rows = [[k.upper() for k in keys]]
        rows += [[num(v) if isinstance(v, float) else v for v in row.values()] for row in grid]
        print(indent(table(rows)), file=out)
        return
    print(f"result    {groups.sentence(runs)}", file=out)
    rows = [["SEED", "RUN", "STATUS", "EPOCHS", "TEST RMSE", "SKILL"]]
    for row, run in zip(groups.spread_rows(runs), runs):
        rows.append([row["seed"], run.id, run.status.value, progress_text(run),
                     num(row["test RMSE"]), signed(row["skill vs naive"])])
    print(indent(table(rows, align="rlllrr")), file=out)


def print_advice(cfg: RunConfig, reasons: dict, err: TextIO) -> None:
    """Say which settings were chosen from the data, and why (flags override them)."""
    if not reasons:
        return
    shown = {"transform": f"transform {cfg.data.transform}", "season": f"season {cfg.data.season}",
             "lookback": f"lookback {cfg.model.lookback}",
             "epochs": f"up to {cfg.train.epochs} epochs, patience {cfg.train.early_stopping_patience}",
             "linear_skip": f"linear path {'on' if cfg.model.linear_skip else 'off'}"}
    print("Chosen from the data (give the option to change it; --no-advice for fixed defaults):",
          file=err)
    for name, why in reasons.items():
        print(f"  {shown.get(name, name)}: {why}", file=err)


def exit_for(run: RunRecord, err: TextIO) -> int:
    if run.status == RunStatus.DONE:
        return 0
    if run.status == RunStatus.FAILED:
        print(f"error: run {run.id} failed: {run.error} (details: `rnnlab show {run.id}`)", file=err)
        return EXIT_RUN_FAILED
    if run.status == RunStatus.CANCELLED:
        return EXIT_INTERRUPTED
    return EXIT_RUN_FAILED

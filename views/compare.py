"""Compare runs: loss curves overlaid, the settings that differ, their scores, the best one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnnlab import figures, ui
from rnnlab.config import CELL_LABELS
from rnnlab.store import RunRecord, RunStatus

DEFAULT_PICK = 3


def pick_ui(runs: list[RunRecord]) -> list[str]:
    """Choose runs; a link's ?runs=ID,ID preselects them and the choice goes back to the URL."""
    ids = [r.id for r in runs]
    labels = {r.id: ui.run_label(r) for r in runs}
    wanted = [i for i in (st.query_params.get("runs") or "").split(",") if i in ids]
    if wanted and st.session_state.get("_compare_from_url") != wanted:
        st.session_state["compare_runs"] = wanted
        st.session_state["_compare_from_url"] = wanted
    elif "compare_runs" not in st.session_state:
        done = [r.id for r in runs if r.status == RunStatus.DONE]
        st.session_state["compare_runs"] = (done or ids)[:DEFAULT_PICK]
    else:
        st.session_state["compare_runs"] = [i for i in st.session_state["compare_runs"] if i in ids]
    chosen = st.multiselect("Runs to compare", ids, key="compare_runs", format_func=labels.get,
                            help="Pick two or more runs, e.g. the same data with a different "
                                 "cell, or one setting changed. The address bar then links to "
                                 "this comparison.")
    if ",".join(chosen) != (st.query_params.get("runs") or ""):
        st.query_params["runs"] = ",".join(chosen)
    return chosen


def short_label(run: RunRecord) -> str:
    """A compact, unique legend name: the run's name (or its shape) and the id's tail."""
    model = run.config.get("model", {})
    cell = CELL_LABELS.get(model.get("cell"), model.get("cell", "?"))
    shape = run.name or f"{model.get('n_layers', '?')}×{cell}"
    return f"{shape} ({run.id[-6:]})"


def table_ui(runs: list[RunRecord], epochs: dict[str, list[dict]]) -> None:
    """Settings that differ, scores, and the best run highlighted."""
    settings = ui.differing_settings({short_label(r): r.config for r in runs})
    scores, what, rows = {}, {}, []
    for run in runs:
        label = short_label(run)
        scores[label], what[label] = ui.run_score(run, epochs[run.id])
        test = run.summary.get("metrics", {}).get("test", {}).get("model", {})
        last = epochs[run.id][-1] if epochs[run.id] else {}
        rows.append({"run": label, "status": run.status.value,
                     "epochs": f"{run.epochs_done}/{run.epochs_total}",
                     "test RMSE": test.get("rmse"), "test MAE": test.get("mae"),
                     "skill vs naive": run.summary.get("skill_vs_naive"),
                     "last val loss": last.get("val_loss"),
                     "parameters": run.summary.get("params")})
    table = pd.DataFrame(rows).set_index("run")
    for col in ("test RMSE", "test MAE", "skill vs naive", "last val loss", "parameters"):
        table[col] = pd.to_numeric(table[col], errors="coerce")  # None -> NaN, shown as —
    table = table.join(settings)
    best = ui.best_run(scores)
    st.dataframe(table.style.apply(lambda row: [
        "background-color: #d4f0d4; font-weight: bold" if row.name == best else ""
        for _ in row], axis=1).format(precision=4, na_rep="—"), key="compare_table")
    if best:
        st.success(f"Best run: **{ui.md(best)}**, with the lowest {what[best]} "
                   f"({ui.fmt_number(scores[best])}). Highlighted in the table.",
                   icon=":material/trophy:")
    if len(runs) == 1:
        st.caption("Pick a second run above to see which settings differ.")
    elif settings.empty:
        st.caption("These runs have the same settings.")
    else:
        st.caption(f"Only the settings that differ are shown: {ui.md(', '.join(settings.columns))}.")


def main() -> None:
    """The Compare page."""
    st.title("Compare runs")
    st.caption("Change one thing, train again, and see here what it did.")
    runs = ui.store().list_runs()
    if not runs:
        st.info("No runs yet. Train two or more to compare them.", icon=":material/flag:")
        ui.page_link("train", "Go to Train", icon=":material/arrow_forward:")
        st.stop()
    chosen = pick_ui(runs)
    if not chosen:
        st.info("Pick at least one run above.", icon=":material/arrow_upward:")
        st.stop()
    by_id = {r.id: r for r in runs}
    picked = [by_id[i] for i in chosen]
    s = ui.store()
    epochs = {r.id: s.epochs(r.id) for r in picked}
    log_y = st.toggle("Log scale", key="compare_log_y",
                      help="A log scale separates curves that end close together.")
    curves = {short_label(r): epochs[r.id] for r in picked}
    ui.chart(figures.compare_loss_figure(curves, log_y=log_y), "compare_loss_chart")
    table_ui(picked, epochs)


main()

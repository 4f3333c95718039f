"""A group of runs as one item on a page (Train, Results): its sentence, the spread of its test
RMSE and skill, its runs, and the loss curves as a median line with a min–max band."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnnlab import figures, groups, ui
from rnnlab.store import LOSS_COLUMNS, RunRecord


def summary_ui(runs: list[RunRecord], key: str, *, chart: bool = True,
               log_y: bool = False) -> None:
    """The group's sentence, the spread of its scores, its runs and (chart=True) the band chart.

    `key` makes the widget keys unique on the page (e.g. the group id)."""
    if not runs:
        return
    found = groups.stats(runs)
    st.markdown(f"#### {ui.md(groups.sentence(runs))}")
    left, mid, right = st.columns(3)
    left.metric("Beat the naive forecast", f"{found.beat} of {found.n}",
                help="Runs whose test RMSE is below the naive forecast's (skill above 0).")
    for column, title, spread, sign, what in (
            (mid, "Median skill vs naive", found.skill, True,
             "1 − RMSE ÷ naive RMSE on the test part, over the runs that finished. Above 0 "
             "beats repeating the last value."),
            (right, "Median test RMSE", found.rmse, False,
             "The model's error on the test part, in the data's units.")):
        show = groups.signed if sign else ui.fmt_number
        column.metric(title, "—" if spread.median is None else show(spread.median), help=what)
        if spread.median is not None:
            column.caption(f"lowest … highest: {show(spread.low)} … {show(spread.high)}")
    table = pd.DataFrame(groups.spread_rows(runs))
    if not table.empty:
        for col in ("test RMSE", "skill vs naive"):
            table[col] = pd.to_numeric(table[col], errors="coerce")
        table["beats naive"] = table["beats naive"].map({True: "yes", False: "no"}).fillna("—")
        table = table.rename(columns={"seed": "Seed", "run": "Run", "status": "Status",
                                      "test RMSE": "Test RMSE", "skill vs naive": "Skill vs naive",
                                      "beats naive": "Beats naive"})
        st.dataframe(table.style.format(precision=4, na_rep="—"), hide_index=True,
                     key=f"group_table_{key}")
    if chart:
        store = ui.store()
        curves = [store.curves(r.id, LOSS_COLUMNS) for r in runs]
        ui.chart(figures.group_loss_figure(curves, log_y=log_y), f"group_loss_{key}")


def kind_words(run: RunRecord) -> str:
    """'seed 43 of the group NAME × 5 seeds (42–46)'."""
    seed = (run.config.get("train") or {}).get("seed")
    if run.group_kind == "seeds":
        return f"seed {seed} of the group **{ui.md(run.group_label)}**"
    return f"one run of the group **{ui.md(run.group_label)}**"

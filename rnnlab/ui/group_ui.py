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
    if runs[0].group_kind == "sweep":
        sweep_ui(runs, key)
    if runs[0].group_kind == "backtest":
        backtest_ui(runs, key)
    found = groups.stats(runs)
    st.markdown(f"### {ui.md(groups.sentence(runs))}")
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


def sweep_ui(runs: list[RunRecord], key: str) -> None:
    """A sweep's grid: the best cell in words, skill over the grid as a chart, and a table."""
    axes, cells = groups.sweep_cells(runs)
    st.markdown(f"### {ui.md(groups.sweep_sentence(runs))}")
    words = {name: groups.SWEEPABLE[name].words for name in axes}
    ui.chart(figures.sweep_figure(axes, cells, words), f"group_sweep_{key}")
    table = pd.DataFrame(groups.sweep_table(runs))
    if not table.empty:
        st.dataframe(table.style.format(precision=3, na_rep="—"), hide_index=True,
                     key=f"group_sweep_table_{key}")
    st.caption("Each cell is one setting of the grid; with several seeds per cell, the lowest "
               "and highest skill say whether a difference between cells is bigger than luck.")


def backtest_ui(runs: list[RunRecord], key: str) -> None:
    """A backtest's folds: the sentence, skill per fold as bars, and a table."""
    st.markdown(f"### {ui.md(groups.backtest_sentence(runs))}")
    rows = groups.backtest_rows(runs)
    ui.chart(figures.backtest_figure(rows), f"group_backtest_{key}")
    st.dataframe(pd.DataFrame(rows).style.format(precision=4, na_rep="—"), hide_index=True,
                 key=f"group_backtest_table_{key}")


SWEEP_HINTS = {"units": "8, 32, 128", "n_layers": "1, 2, 3", "dropout": "0, 0.2",
               "lookback": "12, 24, 48", "cell": "simple_rnn, gru, lstm", "l2": "0, 0.001",
               "learning_rate": "0.0003, 0.001, 0.003", "batch_size": "16, 32, 64",
               "epochs": "20, 50, 100"}
NO_SECOND = "(none)"


def sweep_controls(run_cfg, owner: str = "", room: str = "") -> None:
    """Queue a sweep of the current setup: one or two settings over a few values, × seeds.
    Shows the number of runs and a rough time before queueing; over groups.CONFIRM_OVER runs it
    asks for a confirmation first."""
    from rnnlab import jobs

    with st.expander("Try several values at once (a sweep)"):
        st.caption("Vary one or two settings over a few values each; every combination is "
                   "trained (× seeds) and shown as one grid of skill vs naive.")
        names = list(groups.SWEEPABLE)
        c1, c2, c3 = st.columns([1, 1, 1])
        first = c1.selectbox("Setting", names, key="sweep_first",
                             format_func=lambda n: groups.SWEEPABLE[n].words,
                             help="The first setting to vary.")
        text1 = c1.text_input("Values", key=f"sweep_values_{first}",
                              value=SWEEP_HINTS.get(first, ""),
                              help="Two to six values, separated by commas.")
        second = c2.selectbox("Second setting (optional)", [NO_SECOND, *[n for n in names
                                                                          if n != first]],
                              key="sweep_second",
                              format_func=lambda n: n if n == NO_SECOND else
                              groups.SWEEPABLE[n].words,
                              help="A second setting makes a grid: every value of the first "
                                   "with every value of the second.")
        text2 = "" if second == NO_SECOND else c2.text_input(
            "Values ", key=f"sweep_values2_{second}", value=SWEEP_HINTS.get(second, ""),
            help="Two to six values, separated by commas.")
        seeds = c3.selectbox("Seeds per cell", [1, 2, 3, 5], key="sweep_seeds",
                             help="More than one seed per cell shows whether a difference "
                                  "between cells is bigger than the luck of one draw.")
        try:
            axes = {first: groups.parse_values(first, text1)}
            if second != NO_SECOND:
                axes[second] = groups.parse_values(second, text2)
            n = groups.check_sweep(axes, seeds)
        except ui.RnnlabError as exc:
            st.warning(ui.md(exc), icon=":material/edit:")
            return
        store = ui.store()
        # the epoch budgets of the grid's runs, without building its configs on every rerun
        epochs = ([e for e in axes["epochs"] for _ in range(n // len(axes["epochs"]))]
                  if "epochs" in axes else [run_cfg.train.epochs] * n)
        seconds = groups.estimate_seconds(store.list_runs(("done",), limit=50), epochs,
                                          ui.concurrency())
        when = "time unknown until a run has finished here" if seconds is None else \
            f"at most about {groups.duration_words(seconds)} (early stopping usually ends runs sooner)"
        st.caption(f"{n} runs · {when} · {ui.concurrency()} train at a time.")
        sure = True
        if n > groups.CONFIRM_OVER:
            sure = st.checkbox(f"Yes, queue all {n} runs", key="sweep_sure",
                               help=f"Sweeps of more than {groups.CONFIRM_OVER} runs ask first: "
                                    "they keep the queue busy for a long time.")
        if st.button(f"Queue the sweep ({n} runs)", key="sweep_submit", disabled=not sure,
                     help="Queue every combination as one group; watch it on this page."):
            _queue("sweep", "runs", lambda: jobs.submit_sweep(store, run_cfg, axes, seeds,
                                                              owner=owner, room=room))
    backtest_controls(run_cfg, owner, room)


def _queue(what: str, members: str, submit) -> None:
    """Queue a group with `submit()`; a refusal is an error on the page, success a toast, and
    the Train page follows the group's first run."""
    try:
        group_id, run_ids = submit()
    except ui.RnnlabError as exc:
        st.error(f"The {what} cannot start: {ui.md(exc)}", icon=":material/block:")
        return
    ui.runner()
    st.session_state["runs_watch"] = run_ids[0]
    st.toast(f"Queued the {what} {group_id}: {len(run_ids)} {members}.",
             icon=":material/check_circle:")


def backtest_controls(run_cfg, owner: str = "", room: str = "") -> None:
    """Queue a backtest of the current setup: k origins rolling forward through the data."""
    from rnnlab import jobs

    with st.expander("Would it hold up at other times? (a backtest)"):
        st.caption("Trains the same setup several times, each time on the rows before a test "
                   "part further back in time, and tests on the next rows: one score per "
                   "period instead of one for the last part only.")
        left, right = st.columns([1, 2], vertical_alignment="bottom")
        folds = left.selectbox("Folds", list(range(groups.MIN_FOLDS, groups.MAX_FOLDS + 1)),
                               index=2, key="backtest_folds",
                               help="How many test periods, rolling forward to the end of the "
                                    "data; each has as many rows as the test part.")
        if right.button(f"Queue the backtest ({folds} runs)", key="backtest_submit",
                        help="Queue every fold as one group; watch it on this page."):
            _queue("backtest", "folds", lambda: jobs.submit_backtest(
                ui.store(), run_cfg, folds, owner=owner, room=room))


def kind_words(run: RunRecord) -> str:
    """'seed 43 of the group NAME × 5 seeds (42–46)'."""
    seed = (run.config.get("train") or {}).get("seed")
    if run.group_kind == "seeds":
        return f"seed {seed} of the group **{ui.md(run.group_label)}**"
    if run.group_kind == "sweep":
        return f"one cell of the sweep **{ui.md(run.group_label)}** (seed {seed})"
    if run.group_kind == "backtest":
        end = (run.config.get("data") or {}).get("end_row")
        return f"the fold up to row {end} of the backtest **{ui.md(run.group_label)}**"
    return f"one run of the group **{ui.md(run.group_label)}**"

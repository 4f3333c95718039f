"""Compare runs: loss curves overlaid, the settings that differ, their scores, and the best
one, honestly: runs on different data are never ranked, and a run that does not beat the naive
forecast is never crowned."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from rnnlab import figures, groups, ranking, ui
from rnnlab.config import CELL_LABELS
from rnnlab.store import RunRecord, RunStatus

DEFAULT_PICK = 3


def pick_ui(runs: list[RunRecord]) -> list[str]:
    """Choose runs; a link's ?runs=ID,ID preselects them and the choice goes back to the URL.
    A named session sees its own runs first (everyone's one switch away)."""
    linked = (st.query_params.get("runs") or "").split(",")
    runs = ui.mine_first(runs, "compare_everyone",
                         keep=[*linked, *st.session_state.get("compare_runs", [])])
    ids = [r.id for r in runs]
    labels = {r.id: ui.run_label(r) for r in runs}
    wanted = [i for i in linked if i in ids]
    if wanted and st.session_state.get("_compare_from_url") != wanted:
        st.session_state["compare_runs"] = wanted
        st.session_state["_compare_from_url"] = wanted
    elif "compare_runs" not in st.session_state:
        st.session_state["compare_runs"] = default_pick(runs)
    else:
        st.session_state["compare_runs"] = [i for i in st.session_state["compare_runs"] if i in ids]
    chosen = st.multiselect("Runs to compare", ids, key="compare_runs", format_func=labels.get,
                            help="Pick two or more runs, e.g. the same data with a different "
                                 "cell, or one setting changed. The address bar then links to "
                                 "this comparison.")
    # the ?runs= written below is not a link to follow: without this, the next rerun took it
    # for one and undid a change made right after the page opened (a chip's ✕). Marked before
    # the address is written: a rerun request can stop this run at that write.
    st.session_state["_compare_from_url"] = chosen
    if ",".join(chosen) != (st.query_params.get("runs") or ""):
        st.query_params["runs"] = ",".join(chosen)
    return chosen


def default_pick(runs: list[RunRecord]) -> list[str]:
    """The newest finished run and the newest others on the same data, target and test part
    (whose errors can be ranked against it), finished ones first."""
    done = [r for r in runs if r.status == RunStatus.DONE]
    pool = done or runs
    same = ranking.same_data_as(pool[0], pool)
    return [r.id for r in same[:DEFAULT_PICK]]


SETTING_WORDS = {  # a setting's key -> its name in words (others: the last part, in words)
    "model.cell": "Cell", "model.n_layers": "Layers", "model.units": "Units per layer",
    "model.lookback": "Lookback", "model.horizon": "Horizon", "model.dropout": "Dropout",
    "model.recurrent_dropout": "Recurrent dropout", "model.bidirectional": "Bidirectional",
    "model.linear_skip": "Linear path beside the network",
    "model.kernel_initializer": "Input weights start", "model.recurrent_initializer":
    "Recurrent weights start", "model.init_scale": "Initial weight scale",
    "model.l1": "L1 penalty", "model.l2": "L2 penalty", "model.reservoir_size": "Reservoir size",
    "model.spectral_radius": "Spectral radius", "model.leak_rate": "Leak rate",
    "model.input_scaling": "Input scaling", "model.ridge": "Readout penalty (ridge)",
    "train.epochs": "Epochs", "train.batch_size": "Batch size", "train.optimizer": "Optimizer",
    "train.learning_rate": "Learning rate", "train.loss": "Loss", "train.clipnorm":
    "Clip gradient norm", "train.clipvalue": "Clip gradient values",
    "train.early_stopping_patience": "Early stopping patience", "train.seed": "Seed",
    "train.track_gradients": "Gradient traces", "data.source": "Data file",
    "data.target": "Target column", "data.date_column": "Date column",
    "data.features": "Extra inputs", "data.test_source": "Test file",
    "data.val_fraction": "Validation share", "data.test_fraction": "Test share",
    "data.scaling": "Scaling", "data.fill": "Missing values", "data.season": "Season",
    "data.transform": "Transform", "data.categorical": "Text columns",
}


def setting_words(keys: list[str]) -> dict[str, str]:
    """Column names in words for setting keys ('model.cell' -> 'Cell'); a name two keys would
    share gets its section added ('Seed (train)')."""
    def words(key: str) -> str:
        return SETTING_WORDS.get(key) or key.rsplit(".", 1)[-1].replace("_", " ").capitalize()

    named = {key: words(key) for key in keys}
    taken = [name for name in named.values()]
    return {key: (f"{name} ({key.split('.', 1)[0]})" if taken.count(name) > 1 else name)
            for key, name in named.items()}


def short_label(run: RunRecord) -> str:
    """A compact, unique legend name: the run's name (or its shape) and the id's tail."""
    model = run.config.get("model", {})
    cell = CELL_LABELS.get(model.get("cell"), model.get("cell", "?"))
    shape = run.name or f"{model.get('n_layers', '?')}×{cell}"
    return f"{shape} ({run.id[-6:]})"


def flatten(raw: dict, prefix: str = "") -> dict[str, Any]:
    """{'model': {'units': 8}} -> {'model.units': 8}."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = tuple(value) if isinstance(value, list) else value
    return out


def differing_settings(configs: dict[str, dict]) -> pd.DataFrame:
    """Rows = runs, columns = only the settings that are not the same in every run (the run's
    name is not a setting)."""
    flat = {run_id: {k: v for k, v in flatten(c).items() if k != "name"}
            for run_id, c in configs.items()}
    keys = sorted({k for f in flat.values() for k in f})
    differ = [k for k in keys if len({repr(f.get(k)) for f in flat.values()}) > 1]
    frame = pd.DataFrame({k: [_cell(flat[r].get(k)) for r in flat] for k in differ},
                         index=list(flat))
    frame.index.name = "run"
    return frame


def _cell(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value is None else str(value)


NUMBER_COLUMNS = ("Test RMSE", "Test MAE", "Skill vs naive", "Last validation loss",
                  "Parameters")


def table_ui(runs: list[RunRecord], epochs: dict[str, list[dict]]) -> None:
    """Settings that differ, scores, and the best run highlighted (only when runs can be ranked
    and it beats the naive forecast)."""
    settings = differing_settings({short_label(r): r.config for r in runs})
    if "model.cell" in settings:
        settings["model.cell"] = settings["model.cell"].map(lambda c: CELL_LABELS.get(c, c))
    settings = settings.rename(columns=setting_words(list(settings.columns)))
    rows = []
    for run in runs:
        test = run.result.scores("test", "model")
        last = epochs[run.id][-1] if epochs[run.id] else {}
        rows.append({"Run": short_label(run), "Status": run.status.value,
                     "Data": f"{ui.source_label(ranking.source_of(run))} → "
                             f"{ranking.target_of(run) or 'default column'}",
                     "Epochs done": f"{run.epochs_done}/{run.epochs_total}",
                     "Test RMSE": test.get("rmse"), "Test MAE": test.get("mae"),
                     "Skill vs naive": ranking.skill(run),
                     "Last validation loss": last.get("val_loss"),
                     "Parameters": run.result.params})
    table = pd.DataFrame(rows).set_index("Run")
    for col in NUMBER_COLUMNS:
        table[col] = pd.to_numeric(table[col], errors="coerce")  # None -> NaN, shown as —
    table = table.join(settings.drop(columns=[c for c in settings.columns if c in table]))
    found = ranking.verdict(runs, label=lambda r: f"**{ui.md(short_label(r))}**")
    best = short_label(next(r for r in runs if r.id == found.best)) if found.best else None
    st.dataframe(table.style.apply(lambda row: [
        # a see-through green: the row's text stays readable in the light and the dark theme
        "background-color: rgba(44, 160, 44, 0.25); font-weight: bold" if row.name == best else ""
        for _ in row], axis=1).format(precision=4, na_rep="—"), key="compare_table")
    verdict_ui(found, len(runs))
    if found.kind == "best" and list(settings.columns) == [setting_words(["train.seed"])["train.seed"]]:
        st.caption(":material/casino: These runs differ only in their seed: which one is best "
                   "is luck, not a better setup. Their spread says how much a score can vary.")
    if len(runs) == 1:
        st.caption("Pick a second run above to see which settings differ.")
    elif settings.empty:
        st.caption("These runs have the same settings.")
    else:
        st.caption(f"Only the settings that differ are shown: {ui.md(', '.join(settings.columns))}.")


def verdict_ui(found: ranking.Verdict, n: int) -> None:
    """The best run, or why there is none."""
    if found.kind == "best":
        st.success(f"{found.message} Highlighted in the table.", icon=":material/trophy:")
        if found.caveat:
            st.warning(ui.md(found.caveat), icon=":material/info:")
    elif found.kind == "different":
        st.info(found.message, icon=":material/do_not_disturb_on:")
    elif found.kind == "none_beat_naive":
        st.warning(found.message, icon=":material/warning:")
    elif n > 1:
        st.caption(found.message)


def main() -> None:
    """The Compare page."""
    st.title("Compare runs")
    st.caption("Change one thing, train again, and see here what it did.")
    runs = ui.store().list_runs()
    if not runs:
        st.info("No runs yet. Train two or more to compare them.", icon=":material/flag:")
        ui.page_link("train", "Go to Train", icon=":material/arrow_forward:")
        st.stop()
    runs_ui(runs)
    groups_ui(runs)


def runs_ui(runs: list[RunRecord]) -> None:
    """The chosen runs: loss curves, settings that differ, scores and the best run."""
    chosen = pick_ui(runs)
    if not chosen:
        st.info("Pick at least one run above.", icon=":material/arrow_upward:")
        return
    by_id = {r.id: r for r in runs}
    picked = [by_id[i] for i in chosen]
    s = ui.store()
    epochs = {r.id: s.epochs(r.id) for r in picked}
    log_y = st.toggle("Log scale", key="compare_log_y",
                      help="A log scale separates curves that end close together.")
    curves = {short_label(r): epochs[r.id] for r in picked}
    ui.chart(figures.compare_loss_figure(curves, log_y=log_y), "compare_loss_chart")
    if ranking.differences(picked):
        st.caption(":material/info: These runs are on different data, targets or test parts: "
                   "each loss is on its own scaled data, so the curves show how each run "
                   "learned, not which is better.")
    table_ui(picked, epochs)


def groups_ui(runs: list[RunRecord]) -> None:
    """Groups compared as groups: each one's median skill vs naive with its lowest … highest,
    ranked only when every group is on the same data, target and test part."""
    members: dict[str, list[RunRecord]] = {}
    for run in runs:
        if run.group_id:
            members.setdefault(run.group_id, []).append(run)
    if not members:
        return
    st.header("Compare groups")
    st.caption("A group (seeds, a sweep or a backtest) is judged by the spread of its runs, "
               "not by its luckiest one.")
    labels = {g: f"{rs[0].group_label} · {len(rs)} runs · {g}" for g, rs in members.items()}
    chosen = st.multiselect("Groups to compare", list(members), key="compare_groups",
                            format_func=labels.get,
                            help="Pick two or more groups, e.g. the same setup with two cells, "
                                 "each trained with several seeds.")
    if not chosen:
        return
    rows, spreads = [], []
    for g in chosen:
        group_runs = sorted(members[g], key=lambda r: r.created_at)
        found = groups.stats(group_runs)
        rows.append({"group": group_runs[0].group_label, "kind": group_runs[0].group_kind,
                     "data": f"{ranking.source_of(group_runs[0])} → "
                             f"{ranking.target_of(group_runs[0])}",
                     "runs": found.n, "beat naive": f"{found.beat} of {found.n}",
                     "median skill vs naive": found.skill.median,
                     "lowest": found.skill.low, "highest": found.skill.high,
                     "median test RMSE": found.rmse.median})
        spreads.append((group_runs[0].group_label, found.skill))
    st.dataframe(pd.DataFrame(rows).style.format(precision=3, na_rep="—"), hide_index=True,
                 key="compare_groups_table")
    ui.chart(figures.group_skill_figure(spreads), "compare_groups_chart")
    firsts = [sorted(members[g], key=lambda r: r.created_at)[0] for g in chosen]
    if len(chosen) < 2:
        return
    if any(not ranking.comparable(firsts[0], other) for other in firsts[1:]):
        st.info("These groups are on different data, targets or test parts, so they are not "
                "ranked; compare each one's skill vs naive instead.",
                icon=":material/do_not_disturb_on:")
        return
    scored = [(label, sp) for label, sp in spreads if sp.median is not None]
    if not scored:
        return
    label, best = max(scored, key=lambda item: item[1].median)
    if best.median <= 0:
        st.warning("No group beats the naive forecast on its median run, so none is called "
                   "best.", icon=":material/warning:")
        return
    steady = "even its worst run beats naive" if best.low > 0 else \
        "but its worst run does not beat naive: the lead may be luck"
    st.success(f"Best group: {ui.md(label)}, median skill {groups.signed(best.median)} "
               f"({groups.signed(best.low)} … {groups.signed(best.high)}); {steady}.",
               icon=":material/trophy:")


if __name__ == "__main__":
    main()

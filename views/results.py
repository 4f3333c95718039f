"""Results of one run: predicted vs actual beside the naive baseline, metrics, errors, forecast."""

from __future__ import annotations

import json
from typing import Callable

import pandas as pd
import streamlit as st

from rnnlab import cells
from rnnlab import codegen, coach, evaluate, figures, jobs, samples, ui
from rnnlab.artefacts import (BUNDLE_FILE, FORECAST, FREE_RUN, MODEL_FILE, ONE_STEP,
                              PREDICTIONS)
from rnnlab.intervals import coverage_sentence
from rnnlab import config as cfgmod
from rnnlab.store import LOSS_COLUMNS, RunRecord, RunStatus
from rnnlab.ui import group_ui

KIND_LABELS = {ONE_STEP: "One step ahead (each forecast sees the true past)",
               FREE_RUN: "Free-running (the model feeds its own forecasts back)"}


def status_ui(run: RunRecord) -> None:
    """What happened to the run, in words; a failed run's traceback in an expander."""
    message = run.result.message or run.error
    done = f"after {run.epochs_done} of {run.epochs_total} epochs"
    if run.status == RunStatus.FAILED:
        st.error(f"This run failed {done}: {ui.md(run.error or 'no message was recorded.')}",
                 icon=":material/error:")
        if run.traceback:
            with st.expander("Technical details (traceback)"):
                st.code(run.traceback, language="text")
    elif run.status == RunStatus.DIVERGED:
        st.warning(f"This run diverged {done}: {ui.md(message or 'the loss became NaN.')}",
                   icon=":material/bolt:")
    elif run.status == RunStatus.CANCELLED:
        st.info(f"This run was cancelled {done}. {ui.md(message or '')} Resume it on the Train page.",
                icon=":material/stop_circle:")
    elif run.status == RunStatus.INTERRUPTED:
        st.warning(f"This run was interrupted {done} (its worker stopped). "
                   f"{message or ''} Resume it on the Train page.", icon=":material/warning:")
    elif run.status in ui.ACTIVE and (run.config.get("from_model") or {}).get("action") \
            == "evaluate":
        st.info(f"This run is {run.status.value}: it scores an uploaded model (no training). "
                "Its results appear here when it finishes.", icon=":material/hourglass_top:")
    elif run.status in ui.ACTIVE:
        st.info(f"This run is {run.status.value} (epoch {run.epochs_done} of "
                f"{run.epochs_total}). Its results appear here when it finishes.",
                icon=":material/hourglass_top:")
        ui.page_link("train", "Watch it train", icon=":material/directions_run:")


def from_model_ui(run: RunRecord) -> str | None:
    """A run of an uploaded model says so; its action ("evaluate", "continue") or None."""
    action = (run.config.get("from_model") or {}).get("action")
    source = ui.source_label(run.config.get("data", {}).get("source"))
    if action == "evaluate":
        st.info(f"This run evaluates a model uploaded on the Bring a model page, on "
                f"**{ui.md(source)}**: it was not trained here, so it has no training curve. "
                "Its scores are on the file's last rows, against the same baselines as every "
                "run.", icon=":material/upload_file:")
    elif action == "continue":
        st.info(f"This run continued training a model uploaded on the Bring a model page, on "
                f"**{ui.md(source)}**, starting from its trained weights.",
                icon=":material/upload_file:")
    return action


def verdict_ui(run: RunRecord) -> None:
    """The model against the naive forecast, in one sentence, and the metrics table."""
    result = run.result
    test = result.test_metrics
    if not test:
        return
    headline = result.headline
    sentence = ui.skill_sentence(result)
    st.header("Scores")
    if headline or sentence:
        st.markdown(f"### {ui.md(headline or sentence)}")
    st.caption("The baselines are simple forecasts any model must beat: naive (the next value "
               "equals the last one), the same time one season earlier, a straight-line formula "
               "on the same window (linear autoregression) and, where installed, exponential "
               "smoothing. Skill vs naive = 1 − RMSE of the predictor ÷ RMSE of naive: above 0 "
               "beats naive, below 0 is worse.")
    metrics_table_ui(test, "results_metrics")
    covered = coverage_sentence(result)
    if covered:
        st.caption(f":material/straighten: {ui.md(covered)} A well-judged interval covers about "
                   "its level; far less means the model is surer than it should be.")
    with st.expander("What these scores mean"):
        st.markdown(METRIC_GLOSSARY)
    for note in result.all_notes:
        st.caption(f":material/info: {ui.md(note)}")
    if run.status == RunStatus.DONE and result.message:   # how training ended, which weights it kept
        st.caption(f":material/flag: {ui.md(result.message)}")
    val = result.split_metrics("val")
    if val:
        with st.expander("The same scores on the validation part"):
            metrics_table_ui(val, "results_metrics_val")


def coach_ui(run: RunRecord) -> None:
    """What went wrong and what to try, each with a button that fills in the settings."""
    diagnoses = ui.diagnoses(run)
    if not diagnoses:
        return
    st.header("What the coach sees")
    for i, found in enumerate(diagnoses):
        with st.container(border=True):
            st.markdown(f"**{ui.md(found.title)}**  \n{ui.md(found.evidence)}  \n"
                        f"{ui.md(found.advice)}")
            if found.try_this:
                st.button(f"Try this: {found.try_label}", key=f"results_try_{found.code}",
                          on_click=try_this, args=(run.id, run.config, i),
                          help=f"Fills in this run's settings with {found.settings}; then press "
                               "Train on the Train page.")
    if st.session_state.pop("_tried_from", None) == run.id:
        st.success(f"Settings filled in ({st.session_state.pop('_tried', '')}). Train them on "
                   "the Train page.", icon=":material/auto_fix_high:")
        ui.page_link("train", "Go to Train", icon=":material/arrow_forward:")


def try_this(run_id: str, run_config: dict, index: int) -> None:
    """Button callback: the run's settings with the coach's change, as the current settings."""
    found = coach.diagnose_run(ui.store(), run_id)[index]
    ui.set_config(jobs.afresh(coach.apply(run_config, found)))
    st.session_state["_tried_from"], st.session_state["_tried"] = run_id, found.settings


METRIC_GLOSSARY = (
    "- **RMSE** (root mean squared error): the typical size of an error, in your data's units; "
    "a few big misses weigh more than many small ones. Lower is better.\n"
    "- **MAE** (mean absolute error): the average size of an error, in your data's units. "
    "Lower is better.\n"
    "- **MAPE %** (mean absolute percentage error): the average error as a percentage of the "
    "actual value. Lower is better; left out when values come near zero.\n"
    "- **R²** (coefficient of determination): how much of the ups and downs of the actual "
    "values the predictions follow. 1 is perfect, 0 is no better than always predicting the "
    "average, below 0 is worse than that.\n"
    "- **Skill vs naive**: 1 − RMSE ÷ the naive forecast's RMSE. Above 0 beats repeating the "
    "last value; below 0 does worse.")


def metrics_table_ui(split_metrics: dict, key: str) -> None:
    """Metrics of the model and the baselines in the data's units; the model's row in bold."""
    table = ui.metrics_table(split_metrics)
    shown = table.assign(**{col: table[col].map(ui.fmt_number) for col in table.columns
                            if col != "predictor"})
    bold = shown.style.apply(lambda row: ["font-weight: bold" if row["predictor"] == "the model"
                                          else "" for _ in row], axis=1)
    st.dataframe(bold, hide_index=True, key=key, column_config={
        "RMSE": st.column_config.TextColumn(
            help="Root mean squared error, in the data's units. Lower is better."),
        "MAE": st.column_config.TextColumn(
            help="Mean absolute error, in the data's units. Lower is better."),
        "MAPE %": st.column_config.TextColumn(
            help="Mean absolute percentage error; not shown when values come near zero."),
        "R²": st.column_config.TextColumn(help="Share of the variation explained; 1 is perfect."),
        "skill vs naive": st.column_config.TextColumn(
            help="1 − RMSE ÷ naive RMSE. Above 0 beats the naive forecast."),
    })


def predictions_ui(run: RunRecord, pred: pd.DataFrame) -> None:
    """Predicted vs actual on the test span, with the naive baseline; one-step or free-running."""
    target = run.result.target or run.config.get("data", {}).get("target")
    kinds = [k for k in KIND_LABELS if k in set(pred["kind"])]
    left, right = st.columns([3, 1])
    kind = left.radio("Which predictions", kinds, key="results_kind", horizontal=True,
                      format_func=KIND_LABELS.get,
                      help="One step ahead: every forecast is made from the real past values, "
                           "so errors never pile up. Free-running: from the start of the test "
                           "part the model only sees its own forecasts, so errors can grow.")
    rows, step = pred[pred["kind"] == kind], 1
    horizon = int(run.config.get("model", {}).get("horizon", 1))
    if kind == FREE_RUN:
        rows = rows.assign(step=1)  # one trajectory: every row is the next step of the same run
    elif horizon > 1:
        step = int(right.number_input(
            "Steps ahead", min_value=1, max_value=horizon, value=1, key="results_step",
            help=f"The model predicts {horizon} values at once; pick which one to show."))
    band = band_choice(run, right)
    if kind == FREE_RUN:
        path_scores_ui(rows)
    ui.chart(figures.predictions_figure(rows, kind, step, target=target, band=band),
             "results_pred_chart")
    ui.chart(figures.residuals_figure(rows, kind, step, target=target),
             "results_resid_chart")


def path_scores_ui(rows: pd.DataFrame) -> None:
    """The free-running path against each baseline's path: the headline and the table."""
    scores = evaluate.path_scores(rows)
    if "model" not in scores or "naive" not in scores:
        return
    best = evaluate.best_baseline(scores)
    st.markdown(f"**Free-running over the {scores['model']['n']:,} test steps.** "
                f"{ui.md(evaluate.headline(scores, best))}")
    st.caption("Each baseline runs forward the same way: naive holds the last value, seasonal "
               "naive repeats the last season, the linear autoregression and exponential "
               "smoothing feed back their own forecasts. Errors grow with the steps, so these "
               "numbers are larger than one step ahead.")
    metrics_table_ui(scores, "results_free_metrics")


PRED_COLUMNS = ("kind", "step", "timestamp", "actual", "model")
PRED_NUMBERS = ("step", "actual", "model")
FORECAST_COLUMNS = ("timestamp", "forecast")
# what a damaged CSV raises: pandas' parser and empty-file errors and undecodable bytes are
# ValueErrors; a missing column a KeyError; text where numbers belong a TypeError
DAMAGED = (OSError, ValueError, KeyError, TypeError, IndexError)


def read_artefact_table(run: RunRecord, name: str, columns: tuple[str, ...],
                        numbers: tuple[str, ...] = ()) -> pd.DataFrame | None:
    """A CSV artefact of the run, or None when it has none; a damaged one (unreadable, without
    the columns the charts need, or with text where `numbers` belong) says so on the page and
    is None too."""
    try:
        table = ui.read_csv_artefact(run.id, name)
        if table is None:
            return None
        missing = [c for c in columns if c not in table.columns]
        if missing and not table.empty:
            raise KeyError(f"no {', '.join(missing)} column")
        for column in numbers:
            if column in table.columns:
                pd.to_numeric(table[column])      # ValueError on text
    except DAMAGED as exc:
        damaged_ui(run, name, exc)
        return None
    return table


def damaged_ui(run: RunRecord, name: str, exc: BaseException) -> None:
    """Say that an artefact file cannot be used, and where it is; the page goes on."""
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    st.warning(f"The file {name} of this run is damaged, so what it holds cannot be shown "
               f"({ui.md(detail)}). It is in {ui.md(ui.store().run_dir(run.id))}; train the "
               "same settings again to get a new one. The rest of the page is unaffected.",
               icon=":material/broken_image:")


def band_choice(run: RunRecord, container) -> str | None:
    """The prediction interval to draw ("80", "95") or None, from the levels the run has."""
    levels = run.result.interval_levels
    usable = [k for k, v in sorted(levels.items(), key=lambda kv: kv[1]["level"])
              if any(w is not None for w in v.get("one_step") or [])]
    if not usable:
        return None
    options = ["none", *usable]
    chosen = container.selectbox(
        "Interval", options, index=1, key="results_band",
        format_func=lambda k: "no band" if k == "none" else f"{k} % interval",
        help="A band where the actual value should fall that often, judged from the model's "
             "errors on the validation rows (split conformal). The coverage under the scores "
             "says how often it really did on the test part.")
    return None if chosen == "none" else chosen


def forecast_ui(run: RunRecord, pred: pd.DataFrame) -> None:
    """The forecast beyond the end of the data."""
    forecast = read_artefact_table(run, FORECAST, FORECAST_COLUMNS, ("forecast",))
    if forecast is None or forecast.empty:
        return
    rows = pred[(pred["kind"] == ONE_STEP) & (pred["step"] == 1)]
    if "split" in rows:
        rows = rows[rows["split"] == "test"]
    target = run.result.target or "value"
    try:
        history = pd.Series(rows["actual"].to_numpy(dtype=float),
                            index=_index(rows["timestamp"]), name=target)
    except DAMAGED as exc:
        damaged_ui(run, PREDICTIONS, exc)
        return
    band = st.session_state.get("results_band")
    band = None if band == "none" else band
    ui.chart(figures.forecast_figure(history, forecast.assign(
        timestamp=_index(forecast["timestamp"])), band=band), "results_forecast_chart")
    level = run.result.interval_levels.get(band or "") or {}
    measured = level.get("free_running_measured")
    if band and f"lower_{band}" in forecast and measured is not None and measured < len(forecast):
        st.caption(f":material/straighten: The validation rows measure the {band} % band for "
                   f"the first {measured} forecast steps; later steps keep that width, so "
                   "there it is likely too narrow: errors keep growing as forecasts feed on "
                   "forecasts.")
    features = run.config.get("data", {}).get("features") or []
    given = run.result.future_inputs or 0
    if features and given:
        after = (" and holds them at their last given values after that"
                 if given < len(forecast) else "")
        st.caption(f":material/info: The file gives {ui.md(', '.join(features))} for the first "
                   f"{given} forecast step{'s' if given > 1 else ''} (its rows past the last value "
                   f"of {ui.md(target)}), so the forecast reads them there{after}.")
    elif features:
        st.caption(f":material/info: The future of {ui.md(', '.join(features))} is unknown, so "
                   "this forecast holds them at their last known values. Treat it as a what-if, "
                   "not a prediction of those inputs. If you know their future, add rows with "
                   f"those dates and values and {ui.md(target)} left empty to the file: the "
                   "forecast then reads them.")


def _index(values: pd.Series) -> pd.Index:
    """ISO text as dates, positions as numbers."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.Index(values)
    return pd.DatetimeIndex(pd.to_datetime(values))


def loss_ui(run: RunRecord) -> None:
    """The run's training curve."""
    curves = ui.loss_curves(run, LOSS_COLUMNS)
    with st.expander("Training curve"):
        # on by default when the loss falls over decades (the first epoch would flatten the
        # rest); one switch per run, so each run starts with its own default
        log_y = st.toggle("Log scale", value=figures.loss_log_scale(curves),
                          key=f"results_log_y_{run.id}",
                          help="Show the loss on a log scale: equal steps are equal ratios, so "
                               "the later epochs' progress stays visible.")
        ui.chart(figures.loss_figure(curves, log_y=log_y), "results_loss_chart")


def script_text(run: RunRecord) -> str | None:
    """The run as a standalone Keras script (None if the export refuses these settings)."""
    try:
        run_cfg = cfgmod.RunConfig.from_dict(run.config)
        return codegen.export(run_cfg, ui.script_data_hint(run_cfg.data.source), run_id=run.id,
                              data_sha256=run.data_sha256 or None)
    except ui.RnnlabError:
        return None


def artefact_reader(run_id: str, name: str) -> Callable[[], bytes] | None:
    """For a download button: a function that reads the artefact when the button is clicked
    (its bytes are not read, hashed and kept in memory on every run of the page), or None if
    the run has not written it."""
    path = ui.store().artefact(run_id, name)
    if not path.is_file():
        return None
    return lambda: path.read_bytes() if path.is_file() else b""


def downloads_ui(run: RunRecord) -> None:
    """The model (alone, and with what it needs for new data), the predictions, the forecast,
    the script and the config, as files."""
    st.header("Downloads")
    c1, c2, c3 = st.columns(3)
    # The files are read when a button is clicked, not on every run of the page.
    model = artefact_reader(run.id, MODEL_FILE)
    c1.download_button("Model (.keras)", model or b"", file_name=f"{run.id}.keras",
                       mime="application/octet-stream", key="results_dl_model",
                       disabled=model is None, on_click="ignore",
                       help="The trained network; open it with keras.models.load_model. It "
                            "reads and predicts scaled, transformed values: for forecasts in your "
                            "units use the model for new data."
                       if model else "This run has no saved model.")
    bundle = artefact_reader(run.id, BUNDLE_FILE)
    c2.download_button("Model for new data (.zip)", bundle or b"", file_name=f"{run.id}-model.zip",
                       mime="application/zip", key="results_dl_bundle", disabled=bundle is None,
                       on_click="ignore",
                       help="The network with its scaling, its transform and predict.py: give it "
                            "the latest rows of a file with the same columns and it forecasts in "
                            "your units (python predict.py data.csv)."
                       if bundle else "This run has no model for new data (runs from before it "
                                      "existed, or unfinished runs).")
    script = script_text(run)
    c3.download_button("Keras script (.py)", script or "", file_name=f"{run.id}.py",
                       mime="text/x-python", key="results_dl_script", disabled=script is None,
                       on_click="ignore",
                       help="A plain Python script that rebuilds and retrains this run.")
    c4, c5, c6 = st.columns(3)
    preds = artefact_reader(run.id, PREDICTIONS)
    c4.download_button("Predictions (.csv)", preds or b"", file_name=f"{run.id}-predictions.csv",
                       mime="text/csv", key="results_dl_predictions", disabled=preds is None,
                       on_click="ignore",
                       help="Every prediction in your data's units next to the actual value "
                            "and the baselines.")
    forecast = artefact_reader(run.id, FORECAST)
    c5.download_button("Forecast (.csv)", forecast or b"", file_name=f"{run.id}-forecast.csv",
                       mime="text/csv", key="results_dl_forecast", disabled=forecast is None,
                       on_click="ignore",
                       help="The forecast past the end of your data, in your data's units.")
    c6.download_button("Settings (.json)", json.dumps(run.config, indent=2, sort_keys=True),
                       file_name=f"{run.id}-config.json", mime="application/json",
                       key="results_dl_config", on_click="ignore",
                       help="This run's settings; load them with `rnnlab train --config`.")
    from rnnlab import report  # built only when its button is clicked, not on every page run

    st.download_button("Report (.html)", lambda: report.build_html(ui.store(), run.id).encode(),
                       file_name=f"{run.id}-report.html", mime="text/html",
                       key="results_dl_report", on_click="ignore",
                       help="One file with this run's data, settings, charts, scores, gradients "
                            "and script; it opens in any browser, without internet.")


YES_NO = {True: "yes", False: "no"}
PERCENT = "{:.0%}".format
OFF_IF_NONE = {None: "off"}
# (section, field, label, how to show the value); only fields that apply to the run's cell
DATA_SETTINGS = [
    ("data", "source", "Data", None), ("data", "target", "Column to forecast", None),
    ("data", "date_column", "Date column", None), ("data", "features", "Extra input columns", None),
    ("data", "test_source", "Test file", None), ("data", "val_fraction", "Validation share", PERCENT),
    ("data", "test_fraction", "Test share", PERCENT),
    ("data", "fill", "Gaps", {"interpolate": "a straight line across the gap",
                              "ffill": "repeat the last known value",
                              "drop": "drop rows with gaps"}),
    ("data", "scaling", "Scaling", {"minmax": "min–max to 0…1",
                                    "standard": "standardise (mean 0, sd 1)", "none": "none"}),
    ("data", "categorical", "Text columns", {"exclude": "left out",
                                             "onehot": "one 0/1 column per label"}),
    ("data", "season", "Season length (rows)", {None: "none"}),
    ("data", "transform", "What the network learns", cfgmod.TRANSFORM_LABELS),
]
# the network's and the training's, each shown when it applies to the run's cell (rnnlab.cells)
CELL_SETTINGS = [
    ("model", "cell", "Cell", cfgmod.CELL_LABELS), ("model", "n_layers", "Layers", None),
    ("model", "units", "Units per layer", None), ("model", "dropout", "Dropout", None),
    ("model", "recurrent_dropout", "Recurrent dropout", None),
    ("model", "bidirectional", "Bidirectional", YES_NO),
    ("model", "linear_skip", "Linear path", YES_NO),
    ("model", "reservoir_size", "Reservoir size", None),
    ("model", "spectral_radius", "Spectral radius", None),
    ("model", "leak_rate", "Leak rate", None), ("model", "input_scaling", "Input scaling", None),
    ("model", "ridge", "Ridge penalty", None),
    ("model", "lookback", "Lookback (steps)", None), ("model", "horizon", "Horizon (steps)", None),
    ("model", "kernel_initializer", "Initial input weights", None),
    ("model", "recurrent_initializer", "Initial recurrent weights", None),
    ("model", "init_scale", "Initial weight scale", None),
    ("model", "l1", "L1 penalty", None), ("model", "l2", "L2 penalty", None),
    ("train", "epochs", "Epochs", None), ("train", "batch_size", "Batch size", None),
    ("train", "optimizer", "Optimizer", None), ("train", "learning_rate", "Learning rate", None),
    ("train", "loss", "Loss", {"mse": "squared error", "mae": "absolute error",
                               "huber": "Huber"}),
    ("train", "clipnorm", "Gradient clipping (by norm)", OFF_IF_NONE),
    ("train", "clipvalue", "Gradient clipping (by value)", OFF_IF_NONE),
    ("train", "early_stopping_patience", "Early stopping (patience, epochs)", {0: "off"}),
    ("train", "seed", "Random seed", None),
    ("train", "track_gradients", "Gradients recorded", YES_NO),
]
PART_WORDS = {"data": "Data", "model": "Network", "train": "Training"}


def _setting_text(section: str, name: str, value, shown) -> str:
    """One setting's value in words (a file by its name, lists joined, None as 'automatic')."""
    if name in ("source", "test_source"):
        return ui.source_label(value) if value else "none (cut from the end of the data)"
    if isinstance(shown, dict) and _hashable(value) and value in shown:
        return str(shown[value])
    if callable(shown) and value is not None:
        return shown(value)
    if value is None:
        return {"target": "the file's first numeric column",
                "date_column": "detected automatically"}.get(name, "—")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, bool):
        return YES_NO[value]
    return f"{value:g}" if isinstance(value, float) else str(value)


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def settings_table(config: dict) -> pd.DataFrame:
    """A run's settings in words: the fields that apply to its cell (no echo-state fields on an
    LSTM run, no training fields on an echo state network), each marked when it differs from
    the default; files named by their file name, never by their place on the server."""
    defaults = cfgmod.RunConfig().to_dict()
    cell = (config.get("model") or {}).get("cell")
    fields = DATA_SETTINGS + [f for f in CELL_SETTINGS if cells.applies(cell, f[0], f[1])]
    data = config.get("data") or {}
    rows = []
    for section, name, label, shown in fields:
        part = config.get(section) or {}
        if name not in part:
            continue
        if data.get("test_source") and name == "test_fraction":
            continue              # a separate test file: the share is not used
        if not data.get("test_source") and name == "test_source":
            continue
        value, default = part[name], (defaults.get(section) or {}).get(name)
        changed = name != "source" and _normalised(value) != _normalised(default)
        rows.append({"part": PART_WORDS[section], "setting": label,
                     "value": _setting_text(section, name, value, shown),
                     "changed": "changed" if changed else ""})
    return pd.DataFrame(rows, columns=["part", "setting", "value", "changed"])


def _normalised(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def shown_config(config: dict) -> dict:
    """The run's config as JSON to show: uploaded files by their file name, not their path."""
    shown = json.loads(json.dumps(config))
    data = shown.get("data") or {}
    for name in ("source", "test_source"):
        if data.get(name) and data[name] not in samples.SAMPLES:
            data[name] = ui.source_label(data[name])
    return shown


def config_ui(run: RunRecord) -> None:
    """The run's settings in words, and a button to make them the current ones; the same as
    JSON in an expander of its own."""
    with st.expander("Settings of this run"):
        table = settings_table(run.config)
        st.dataframe(table, hide_index=True, key="results_settings",
                     height=36 * (len(table) + 1) + 3,  # every setting, no inner scrolling
                     column_config={"part": st.column_config.TextColumn("part", width="small"),
                                    "changed": st.column_config.TextColumn(
                                        "from the default", width="small",
                                        help="“changed” where this run differs from the "
                                             "default settings.")})
        st.button("Use these settings", key="results_use_config", on_click=use_settings,
                  args=(run.id, run.config),
                  help="Copy this run's data and model settings to the Data and Model pages, "
                       "to change one thing and train again.")
        if st.session_state.pop("_copied_from", None) == run.id:  # said here, by the button
            st.success(COPIED, icon=":material/content_copy:")
            ui.page_link("model", "Go to Model", icon=":material/arrow_forward:")
    with st.expander("Settings of this run as JSON"):
        st.caption("The same settings as the Settings (.json) download below, with an "
                   "uploaded file named by its file name.")
        st.json(shown_config(run.config), expanded=True)


COPIED = "Settings copied from the run. Change what you like on the Model page, then train."


def use_settings(run_id: str, run_config: dict) -> None:
    """Button callback: make a run's settings the current ones (a new network, also for a run
    of an uploaded model)."""
    ui.set_config({**run_config, "from_model": None} if run_config.get("from_model")
                  else run_config)
    st.session_state["_copied_from"] = run_id


def group_section_ui(run: RunRecord) -> None:
    """A run of a group: the group first, as one item (its sentence, spread and loss band),
    then this run on its own below."""
    members = ui.guarded(lambda: ui.store().group_runs(run.group_id), "This group cannot be shown")
    if len(members) < 2:
        return
    with st.container(border=True, key="results_group"):
        st.header(f"Group: {ui.md(run.group_label)}")
        st.caption(f"This run is {group_ui.kind_words(run)}. The same setup was trained "
                   f"{len(members)} times; together they show how much of a score is luck.")
        log_y = st.toggle("Log scale", key="results_group_log_y",
                          help="Show the group's loss band on a log scale.")
        group_ui.summary_ui(members, "results", log_y=log_y)
    st.header(f"This run: seed {(run.config.get('train') or {}).get('seed')}"
                 if run.group_kind == "seeds" else "This run")


def main() -> None:
    """The Results page."""
    st.title("Results")
    run_id = ui.run_picker_ui("Run", "results_run",
                              help="Pick a run. The address bar then links to this run, to "
                                   "share it.")
    if run_id is None:
        st.info("No runs yet. Train one first.", icon=":material/flag:")
        ui.page_link("train", "Go to Train", icon=":material/arrow_forward:")
        st.stop()
    ui.share_caption(run=run_id)
    run = ui.guarded(lambda: ui.store().get_run(run_id), "This run cannot be shown")
    if run.group_id:
        group_section_ui(run)
    status_ui(run)
    evaluated = from_model_ui(run) == "evaluate"
    pred = read_artefact_table(run, PREDICTIONS, PRED_COLUMNS, PRED_NUMBERS)
    if pred is not None and not pred.empty:
        verdict_ui(run)
        coach_ui(run)
        for name, draw in ((PREDICTIONS, predictions_ui), (FORECAST, forecast_ui)):
            try:
                draw(run, pred)
            except DAMAGED as exc:  # readable, but with values the charts cannot use
                damaged_ui(run, name, exc)
    elif pred is None and ui.store().artefact(run.id, PREDICTIONS).is_file():
        verdict_ui(run)        # damaged (said above): the scores come from the store
        coach_ui(run)
    elif run.status == RunStatus.DONE:
        st.info("This run has no predictions file, so there is nothing to plot.",
                icon=":material/info:")
    if not evaluated:             # an evaluated model was not trained here: no curve
        loss_ui(run)
    config_ui(run)
    downloads_ui(run)
    if not evaluated:
        ui.page_link("gradients", "See how its gradients flowed",
                     icon=":material/arrow_forward:", run=run.id)


if __name__ == "__main__":
    main()

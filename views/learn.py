"""Learn: lessons that each teach one idea with a few runs, and a gradient calculator.

Every lesson is a card: the concept, a paragraph in plain words, what to look at, and a Run
button that queues the lesson's runs. They are ordinary runs, so they also appear on the Train,
Results, Gradients and Compare pages. An open lesson (also from a link, ?lesson=ID) follows its
runs live and draws the lesson's chart. The calculator at the bottom needs no training.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import streamlit as st

from rnnlab import cells
from rnnlab import figures, lessons, ui
from rnnlab.artefacts import FREE_RUN, ONE_STEP, PREDICTIONS
from rnnlab.errors import ConfigError
from rnnlab.lessons import Lesson
from rnnlab.store import RunRecord, RunStatus
from rnnlab.ui import lesson_maths

OPEN_KEY = "learn_open"            # the id of the open lesson (None: the overview of all lessons)
CARDS_PER_ROW = 3
LIVE_POLL = 2.0                    # seconds between refreshes while a lesson's run trains
ACTIVATIONS = {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "ReLU", "linear": "linear"}
VIEW_WORDS = {"types": "shapes and forecasts", "unrolled": "the unrolled network",
              "gradients_compare": "gradients side by side", "compare": "runs compared",
              "lag": "an honest check", "results": "results", "gradients": "gradients"}
SHORT_STATUS = {RunStatus.QUEUED: "waiting", RunStatus.RUNNING: "training",
                RunStatus.DONE: "finished"}
TIME_HOW = ("Columns are steps back from the prediction (1 = the most recent input), rows are "
            "epochs; colour is how much gradient reaches that step, on one log scale for all "
            "the runs. Colour fading to the right: the gradient vanishes on its way back in time. "
            "To see how far back each epoch's gradient reaches, also where the sizes span many "
            "powers of ten, switch Scale to “each epoch relative to 1 step back”.")
TIME_RELATIVE_HOW = ("Columns are steps back from the prediction (1 = the most recent input), "
                     "rows are epochs; each row is divided by its own gradient 1 step back, so "
                     "the first column is 1× (white), blue is weaker and red stronger than 1 step "
                     "back. Red far to the right: that epoch's network uses inputs from long ago "
                     "more than the most recent one.")
LESSON_EPOCHS_ENV = "RNNLAB_LESSON_EPOCHS"   # the most epochs a lesson's run trains (see below)


# -- which lesson is open -----------------------------------------------------------------------
def open_lesson(lesson_id: str | None) -> None:
    """Button callback: open a lesson (None: back to all lessons) and put it in the link."""
    st.session_state[OPEN_KEY] = lesson_id
    if lesson_id:
        st.query_params["lesson"] = lesson_id
    elif "lesson" in st.query_params:
        del st.query_params["lesson"]


def opened(found: dict[str, Lesson]) -> Lesson | None:
    """The lesson to show: the link's ?lesson=ID, else the one opened earlier in this session.

    An unknown id in the link shows an error listing the valid ones, and the overview."""
    wanted = st.query_params.get("lesson")
    if wanted is not None and wanted not in found:
        valid = ", ".join(f"`{lesson_id}`" for lesson_id in found)
        shown = wanted[:60].replace("`", "")  # in a code span: the link's text is never markup
        st.error(f"There is no lesson `{shown}`. Valid lesson ids: {valid}. Open one "
                 "below, or fix the link (for example ?lesson=vanishing).",
                 icon=":material/block:")
        return None
    if wanted:
        st.session_state[OPEN_KEY] = wanted
    lesson_id = st.session_state.get(OPEN_KEY)
    if lesson_id not in found:
        return None
    if wanted != lesson_id:  # back from another page: the link names the lesson again
        st.query_params["lesson"] = lesson_id
    return found[lesson_id]


# -- running a lesson ---------------------------------------------------------------------------
def run_lesson(lesson: Lesson) -> None:
    """Button callback: queue every run of the lesson (at most RNNLAB_LESSON_EPOCHS epochs each
    when that is set) and open the lesson to follow them."""
    try:
        run_ids = lessons.start_lesson(ui.store(), lesson, quick_epochs=lesson_epochs(),
                                       owner=ui.owner(), room=ui.room())
    except ui.RnnlabError as exc:
        st.session_state["_learn_problem"] = f"The lesson “{lesson.title}” cannot start: {exc}"
        return
    ui.runner()
    open_lesson(lesson.id)
    st.toast(f"Queued {len(run_ids)} run{'s' * (len(run_ids) != 1)} of “{lesson.title}”.",
             icon=":material/play_circle:")


def plan() -> int | None:
    """RNNLAB_LESSON_EPOCHS, or an error on the page when it is not a whole number."""
    return ui.guarded(lesson_epochs, "The lessons cannot be run")


def lesson_epochs() -> int | None:
    """RNNLAB_LESSON_EPOCHS: the most epochs a lesson's run trains (rehearsals, tests); None when
    unset, so lessons train as written."""
    raw = os.environ.get(LESSON_EPOCHS_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{LESSON_EPOCHS_ENV} must be a whole number >= 1. Received: {raw!r}. "
                          "Unset it to train lessons with their full epochs.")
    return int(raw)


def lesson_plan(lesson: Lesson, quick_epochs: int | None) -> str:
    """What pressing Run queues, in words: '3 runs of 12 epochs each on Long-memory series'."""
    configs = lesson.configs(quick_epochs)
    epochs = sorted({cfg.train.epochs for _, cfg in configs
                     if not cells.get(cfg.model.cell).fitted})
    count = f"{len(configs)} run{'s' * (len(configs) != 1)}"
    each = f" of {epochs[0]} epoch{'s' * (epochs[0] != 1)}" if len(epochs) == 1 else ""
    sources = {ui.source_label(cfg.data.source) for _, cfg in configs}
    data = f" on {sources.pop()}" if len(sources) == 1 else ""
    cut = f" (cut by {LESSON_EPOCHS_ENV}={quick_epochs})" if quick_epochs else ""
    return f"{count}{each}{data}{cut}"


def run_button(lesson: Lesson, runs: dict[str, RunRecord], *, where: Any = None,
               short: bool = False) -> None:
    """Run (again); disabled while the lesson's runs train, so a class cannot queue it twice."""
    active = any(r.status in ui.ACTIVE for r in runs.values())
    unnamed = ui.name_needed()
    label = "Training…" if active else "Run again" if runs else "Run" if short else \
        "Run this lesson"
    (where or st).button(
        label, key=f"learn_run_{lesson.id}", type="primary", icon=":material/play_arrow:",
        disabled=active or unnamed, width="stretch" if short else "content",
        on_click=run_lesson, args=(lesson,),
        help="Type your name first (at the top of the page or in the sidebar)." if unnamed
        else "Queue this lesson's runs. They train in the background and also appear on the "
             "Train, Results, Gradients and Compare pages." if not active else
             "This lesson's runs are training; follow them below or on the Train page.")


def status_summary(lesson: Lesson, runs: dict[str, RunRecord]) -> str:
    """'Not run yet.' or '2 finished · 1 training (of 3 runs).'"""
    if not runs:
        return "Not run yet."
    counts: dict[str, int] = {}
    for run in runs.values():
        word = SHORT_STATUS.get(run.status, run.status.value)
        counts[word] = counts.get(word, 0) + 1
    return " · ".join(f"{n} {word}" for word, n in counts.items()) + \
        f" (of {len(lesson.runs)} run{'s' * (len(lesson.runs) != 1)})."


# -- the overview -------------------------------------------------------------------------------
def overview_ui(found: dict[str, Lesson]) -> None:
    """Every lesson as a card, in teaching order."""
    st.header("Lessons")
    st.caption("Each lesson trains a few small runs that show one idea. Open a lesson to read it "
               "and follow its runs; Run queues them at once.")
    items = list(enumerate(found.values(), start=1))
    stored = ui.store().list_runs()  # once for every card
    for start in range(0, len(items), CARDS_PER_ROW):
        for col, (number, lesson) in zip(st.columns(CARDS_PER_ROW),
                                         items[start:start + CARDS_PER_ROW]):
            with col:
                card_ui(lesson, number,
                        lessons.lesson_runs(ui.store(), lesson, stored, owner=ui.owner()))


def card_ui(lesson: Lesson, number: int, runs: dict[str, RunRecord]) -> None:
    """One lesson's card: concept, explanation, what to look at, status, Open and Run."""
    with st.container(border=True):
        st.caption(f"Lesson {number} · {VIEW_WORDS.get(lesson.view, lesson.view)}")
        st.markdown(f"### {lesson.title}")
        if lesson.concept:
            st.markdown(f"**{lesson.concept}**")
        st.markdown(lesson.explanation)
        st.markdown(f":material/visibility: **What to look at:** {lesson.look_at}")
        st.caption(status_summary(lesson, runs))
        left, right = st.columns(2)
        left.button("Open", key=f"learn_open_{lesson.id}", icon=":material/menu_book:",
                    on_click=open_lesson, args=(lesson.id,), width="stretch",
                    help="Read this lesson, follow its runs and see its chart.")
        run_button(lesson, runs, where=right, short=True)


# -- one lesson ---------------------------------------------------------------------------------
def lesson_ui(lesson: Lesson, found: dict[str, Lesson]) -> None:
    """The open lesson: its text (large in classroom mode), Run, its runs and its chart."""
    ids = list(found)
    position = ids.index(lesson.id)
    nav = st.container(horizontal=True)
    nav.button("All lessons", key="learn_back", icon=":material/arrow_back:",
                on_click=open_lesson, args=(None,), help="Back to the list of lessons.")
    following = ids[position + 1] if position + 1 < len(ids) else None
    nav.button("Next lesson", key="learn_next", icon=":material/arrow_forward:",
                   on_click=open_lesson, args=(following,), disabled=following is None,
                   help=f"Lesson {position + 2}: {found[following].title}" if following else
                   "This is the last lesson.")
    with st.container(key="learn_text"):
        st.caption(f"Lesson {position + 1} of {len(ids)}")
        st.header(lesson.title, anchor=False)
        if lesson.concept:
            st.markdown(f"### {lesson.concept}")
        st.markdown(lesson.explanation)
        st.info(f"**What to look at:** {lesson.look_at}", icon=":material/visibility:")
    ui.name_prompt("run this lesson")
    runs = lessons.lesson_runs(ui.store(), lesson, owner=ui.owner())
    row = st.container(horizontal=True, vertical_alignment="center")
    run_button(lesson, runs, where=row)
    row.caption(f"Run queues {lesson_plan(lesson, plan())}.")
    ui.share_caption(lesson=lesson.id)
    live_ui(lesson, runs)


def live_ui(lesson: Lesson, runs_now: dict[str, RunRecord]) -> None:
    """The runs and the chart, refreshed while a run trains (no full-page reruns)."""
    active = any(r.status in ui.ACTIVE for r in runs_now.values())
    first = [runs_now]  # the page's own reading, for the first drawing; refreshes read again

    @st.fragment(run_every=ui.poll_every(LIVE_POLL) if active else None)
    def refresh() -> None:
        runs = first.pop() if first else lessons.lesson_runs(ui.store(), lesson,
                                                             owner=ui.owner())
        if active and not any(r.status in ui.ACTIVE for r in runs.values()):
            st.rerun()  # all finished: redraw the whole page once (Run again) and stop polling
        runs_ui(lesson, runs)
        VIEWS.get(lesson.view, lag_view)(lesson, runs)

    refresh()


def runs_ui(lesson: Lesson, runs: dict[str, RunRecord]) -> None:
    """One row per run of the lesson: status, progress, links; a failed or diverged run's
    explanation."""
    if not runs:
        st.info(f"Not run yet. Press **Run this lesson**: its {len(lesson.runs)} "
                f"run{'s' * (len(lesson.runs) != 1)} train in the background, and their progress "
                "and charts appear here.", icon=":material/flag:")
        return
    for label, _ in lesson.runs:
        run = runs.get(label)
        with st.container(border=True):
            name, progress, links = st.columns([3, 3, 2], vertical_alignment="center")
            if run is None:
                name.markdown(f"**{label}**")
                name.caption("not run yet")
                continue
            name.markdown(f"{ui.STATUS_ICONS.get(run.status, '')} **{label}**")
            name.caption(ui.STATUS_WORDS.get(run.status, run.status.value))
            if run.repeat_of:   # another student's run with the same settings answers it
                name.caption(f":material/content_copy: the results of run {run.repeat_of} "
                             "(same settings, data and seed): "
                             + ("shown when it finishes" if run.status == RunStatus.QUEUED
                                else "not trained again"))
            progress.progress(run.progress, text=f"epoch {run.epochs_done}/{run.epochs_total}")
            with links:
                ui.page_link("results", "Results", icon=":material/query_stats:", run=run.id)
                ui.page_link("gradients", "Gradients", icon=":material/gradient:", run=run.id)
            message_ui(run)
    if len(runs) > 1:
        ui.page_link("compare", "Compare these runs", icon=":material/compare_arrows:",
                     runs=",".join(r.id for r in runs.values()))


def message_ui(run: RunRecord) -> None:
    """Why a run stopped, when it did not finish normally."""
    message = run.result.message or run.error
    if run.status == RunStatus.DIVERGED:
        st.warning(f"Diverged after {run.epochs_done} of {run.epochs_total} epochs: "
                   f"{ui.md(message or 'the loss became NaN.')}", icon=":material/bolt:")
    elif run.status == RunStatus.FAILED:
        st.error(f"Failed: {ui.md(message or 'no message was recorded.')}", icon=":material/error:")
    elif run.status in (RunStatus.CANCELLED, RunStatus.INTERRUPTED) and message:
        st.caption(ui.md(message))


def present(lesson: Lesson, runs: dict[str, RunRecord]) -> list[tuple[str, RunRecord]]:
    """The lesson's runs that exist, in the lesson's order."""
    return [(label, runs[label]) for label, _ in lesson.runs if label in runs]


def predictions(run: RunRecord | None):
    """A run's predictions.csv, or None before it has one."""
    if run is None:
        return None
    pred = ui.read_csv_artefact(run.id, PREDICTIONS)
    return None if pred is None or pred.empty else pred


def prediction_rows(pred: pd.DataFrame, kind: str = ONE_STEP,
                    split: str = "test") -> pd.DataFrame:
    """One trajectory of predictions.csv: the first step of each teacher-forced window, or the
    free-running run (its steps renumbered 1 so the figures draw it as one line)."""
    rows = pred[(pred["kind"] == kind) & (pred["split"] == split)]
    if kind == FREE_RUN:
        return rows.assign(step=1)
    return rows[rows["step"].astype(int) == 1]


def target_of(run: RunRecord) -> str | None:
    """The forecast column's name, for the charts' axes."""
    return run.result.target or run.config.get("data", {}).get("target")


# -- the lesson's chart, by its view ------------------------------------------------------------
def types_view(lesson: Lesson, runs: dict[str, RunRecord]) -> None:
    """Tensor shapes of every run's model, then the three framings' forecasts."""
    st.subheader("What goes in and what comes out")
    shapes = lesson_maths.tensor_shapes(lesson.runs).drop(columns="run")  # the type names the run
    st.dataframe(shapes, hide_index=True, key="learn_shapes", width="stretch", column_config={
        "type": st.column_config.TextColumn(width=200),
        "input": st.column_config.TextColumn(width=190, help="(batch, lookback, features)"),
        "layers": st.column_config.TextColumn(width=290),
        "output": st.column_config.TextColumn(width=190, help="(batch, horizon)"),
        "parameters": st.column_config.NumberColumn(width=100)})
    st.caption("batch = how many windows go through the network at once. Every model reads "
               "(batch, lookback, features); only the size of its last layer decides how many "
               "values come out.")
    one = next((label for label, cfg in lesson.runs if cfg.model.horizon == 1), None)
    many = next((label for label, cfg in lesson.runs if cfg.model.horizon > 1), None)
    pred_one, pred_many = predictions(runs.get(one)), predictions(runs.get(many))
    if pred_one is None and pred_many is None:
        st.info("The forecasts appear here when the runs have finished.",
                icon=":material/hourglass_top:")
        return
    left, right = st.columns(2)
    if pred_one is not None:
        target = target_of(runs[one])
        with left:
            fig = figures.predictions_figure(prediction_rows(pred_one), target=target)
            fig.update_layout(title_text="Many-to-one: the next value, from the real past")
            ui.chart(fig, "learn_types_one_step")
        with right:
            rows = prediction_rows(pred_one, FREE_RUN)
            fig = figures.predictions_figure(rows, FREE_RUN, target=target)
            fig.update_layout(title_text="One-to-many: one seed window, then its own outputs")
            ui.chart(fig, "learn_types_free")
    if pred_many is not None:
        ui.chart(figures.horizon_figure(pred_many, target=target_of(runs[many])),
                 "learn_types_many")


def unrolled_view(lesson: Lesson, runs: dict[str, RunRecord]) -> None:
    """The first run's network unrolled over its window, beside its gradient through time."""
    label, cfg = lesson.runs[0]
    m = cfg.model
    left, right = st.columns(2)
    with left:
        n_layers = cells.layers(m)
        ui.chart(figures.unrolled_diagram(m.cell, n_layers, m.lookback, m.horizon),
                 "learn_unrolled_diagram")
    run = runs.get(label)
    with right:
        relative = ui.time_scale_ui("learn_unrolled_scale")
        through_time = ui.store().through_time(run.id) if run else {}
        ui.chart(figures.through_time_heatmap(through_time, "input", relative),
                 "learn_unrolled_time")
    st.caption(TIME_RELATIVE_HOW if relative else TIME_HOW)


def gradients_view(lesson: Lesson, runs: dict[str, RunRecord]) -> None:
    """Gradient through time of every run side by side on one colour scale; with clipping in
    the lesson, also the gradient norm of every step against its threshold."""
    shown = present(lesson, runs)
    if not shown:
        return
    s = ui.store()
    st.subheader("Gradient reaching each input step")
    relative = ui.time_scale_ui("learn_time_scale")
    heatmaps = []
    for label, run in shown:
        fig = figures.through_time_heatmap(s.through_time(run.id), "input", relative)
        # narrow columns: the run's name, a short axis title; the caption below explains
        fig.update_layout(title_text=label, title_subtitle_text="",
                          xaxis_title_text="steps back (1 = most recent)",
                          margin_t=figures.TOP_MARGIN - 10)
        heatmaps.append(fig)
    ui.share_colour_scale(heatmaps)
    for i, (col, fig) in enumerate(zip(st.columns(len(shown)), heatmaps)):
        with col:
            ui.chart(fig, f"learn_time_{i}")
    st.caption(TIME_RELATIVE_HOW if relative else TIME_HOW)
    if not any(cfg.train.clipnorm for _, cfg in lesson.runs):
        return
    st.subheader("Gradient norm at every training step")
    for i, (col, (label, run)) in enumerate(zip(st.columns(len(shown)), shown)):
        fig = figures.step_norm_figure(s.step_norms(run.id), run.config["train"].get("clipnorm"))
        fig.update_layout(title_text=label)
        with col:
            ui.chart(fig, f"learn_steps_{i}")
    clipped = any((run.config.get("train") or {}).get("clipnorm") is not None
                  for _, run in shown)
    st.caption("The size of the whole gradient at every step, before clipping. Without clipping "
               "it climbs until the loss breaks"
               + ("; the red dashed line is the clipping threshold: any step above it is "
                  "scaled down to it." if clipped else "."))


def seconds_per_epoch(run: RunRecord, epochs: list[dict]) -> float | None:
    """The run's mean seconds per epoch: from its summary once finished, else from its epochs."""
    if run.result.seconds_per_epoch is not None:
        return float(run.result.seconds_per_epoch)
    seconds = [e["seconds"] for e in epochs if e.get("seconds") is not None]
    return sum(seconds) / len(seconds) if seconds else None


def lesson_table(runs: dict[str, RunRecord], epochs: dict[str, list[dict]]) -> pd.DataFrame:
    """One row per lesson run: status, epochs, seconds per epoch, test RMSE and skill vs naive."""
    rows = []
    for label, run in runs.items():
        result = run.result
        rows.append({"run": label, "status": ui.STATUS_WORDS.get(run.status, run.status.value),
                     "epochs": f"{run.epochs_done}/{run.epochs_total}",
                     "seconds per epoch": seconds_per_epoch(run, epochs.get(run.id, [])),
                     "test RMSE": result.test_rmse(),
                     "skill vs naive": result.skill_vs_naive})
    table = pd.DataFrame(rows, columns=["run", "status", "epochs", "seconds per epoch",
                                        "test RMSE", "skill vs naive"])
    for col in ("seconds per epoch", "test RMSE", "skill vs naive"):
        table[col] = pd.to_numeric(table[col], errors="coerce")  # None -> NaN, shown empty
    return table


def compare_view(lesson: Lesson, runs: dict[str, RunRecord]) -> None:
    """Loss curves overlaid, and seconds per epoch and test error per run."""
    shown = present(lesson, runs)
    if not shown:
        return
    s = ui.store()
    epochs = {run.id: s.epochs(run.id) for _, run in shown}
    ui.chart(figures.compare_loss_figure({label: epochs[run.id] for label, run in shown}),
             "learn_compare_loss")
    st.dataframe(lesson_table(dict(shown), epochs), hide_index=True, key="learn_compare_table",
                 column_config={
                     "seconds per epoch": st.column_config.NumberColumn(format="%.2f s"),
                     "test RMSE": st.column_config.NumberColumn(
                         format="%.4g", help="Error on the test part, in the data's units. "
                                             "Lower is better."),
                     "skill vs naive": st.column_config.NumberColumn(
                         format="%.2f", help="1 − RMSE ÷ naive RMSE: above 0 beats "
                                             "repeating the last value.")})


def lag_view(lesson: Lesson, runs: dict[str, RunRecord]) -> None:
    """Predicted vs actual vs naive, the skill vs naive, and which past value the model follows."""
    shown = present(lesson, runs)
    for i, (label, run) in enumerate(shown):
        pred = predictions(run)
        if pred is None:
            continue
        if len(shown) > 1:
            st.subheader(label)
        verdict_ui(run)
        rows = prediction_rows(pred)
        left, right = st.columns(2)
        with left:
            ui.chart(figures.predictions_figure(rows, target=target_of(run)),
                     f"learn_lag_pred_{i}")
        with right:
            ui.chart(figures.lag_correlation_figure(rows["actual"], rows["model"]),
                     f"learn_lag_corr_{i}")


def verdict_ui(run: RunRecord) -> None:
    """Model and naive error, and the skill, as big numbers and one sentence."""
    result = run.result
    model, naive = result.test_rmse("model"), result.test_rmse("naive")
    skill = result.skill_vs_naive
    a, b, c = st.columns(3)
    a.metric("Model error (test RMSE)", ui.fmt_number(model),
             help="Root mean squared error on the test part, in the data's units.")
    b.metric("Naive error (test RMSE)", ui.fmt_number(naive),
             help="The same for “tomorrow equals today”.")
    c.metric("Skill vs naive", "—" if skill is None else f"{skill:+.0%}",
             help="1 − model RMSE ÷ naive RMSE. Below 0: repeating the last value does better.")
    sentence = ui.skill_sentence(result)
    if sentence:
        st.markdown(f"**{sentence}**")


VIEWS = {"types": types_view, "unrolled": unrolled_view, "gradients_compare": gradients_view,
         "gradients": gradients_view, "compare": compare_view, "lag": lag_view,
         "results": lag_view}


# -- the calculator -----------------------------------------------------------------------------
def calculator_ui() -> None:
    """|∂h_T/∂h_{T−k}| for a chosen recurrent weight and activation: vanishing or exploding?"""
    st.divider()
    st.subheader("The gradient through time, by hand")
    st.caption("No training needed. A recurrent unit computes h_t = f(w·h_{t−1} + u·x_t). "
               "Going one step back in time multiplies the gradient by w·f′; going k steps back "
               "multiplies it k times over.")
    c1, c2, c3 = st.columns(3)
    w = c1.slider("Recurrent weight w", min_value=0.0, max_value=3.0, value=0.9, step=0.05,
                  key="learn_calc_w",
                  help="The weight that carries the state from one step to the next.")
    activation = c2.radio("Activation f", list(ACTIVATIONS), key="learn_calc_activation",
                          format_func=ACTIVATIONS.get, horizontal=True,
                          help="The squashing function of the unit; its slope f′ also "
                               "multiplies the gradient at every step.")
    steps = c3.slider("Steps back", min_value=1, max_value=200, value=50, key="learn_calc_steps",
                      help="How far back in time to follow the gradient (the lookback).")
    ui.chart(figures.bptt_calculator_figure(float(w), activation, int(steps)),
             "learn_calc_chart")
    with st.container(key="learn_calc_text"):
        st.markdown(lesson_maths.bptt_sentence(float(w), activation, int(steps)))


def classroom_css() -> None:
    """Make the lesson text large, in classroom mode only (static CSS, no user text)."""
    if ui.classroom():
        st.markdown(ui.CLASSROOM_CSS, unsafe_allow_html=True)


def main() -> None:
    """The Learn page."""
    classroom_css()
    st.title("Learn")
    st.caption("Lessons on recurrent networks: read the idea, press Run, and watch it happen "
               "in real runs.")
    problem = st.session_state.pop("_learn_problem", None)
    if problem:
        st.error(problem, icon=":material/block:")
    found = ui.guarded(lessons.load_lessons, "The lessons cannot be read")
    lesson = opened(found)
    if lesson is None:
        ui.name_prompt("run a lesson")
        overview_ui(found)
    else:
        lesson_ui(lesson, found)
    calculator_ui()


if __name__ == "__main__":
    main()

"""Class board: how a room is doing, for the teacher.

One row per named student of the room (from the link's ?room=CODE, or typed here): their runs'
status and their best result; the spread of the class's best results; and one student's run
shown large, for the projector. It refreshes itself while the room's runs train. In the
navigation in classroom mode or with ?room=CODE&teacher=1; reachable by its address (/board)
otherwise, behind the password where one is set.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnnlab import classroom, figures, lessons, ui
from rnnlab.artefacts import ONE_STEP, PREDICTIONS
from rnnlab.groups import skill
from rnnlab.store import RunRecord, RunStatus

FAST_POLL, SLOW_POLL = 3.0, 15.0   # seconds between refreshes with / without active runs
ALL_RUNS = ""                     # the lesson picker's "every run of the room"
PROJECTOR_HEIGHT = 620
COLUMNS = {
    "student": st.column_config.TextColumn("Student"),
    "runs": st.column_config.NumberColumn("Runs"),
    "training or waiting": st.column_config.NumberColumn("Training or waiting"),
    "finished": st.column_config.NumberColumn("Finished"),
    "failed": st.column_config.NumberColumn("Failed"),
    "latest": st.column_config.TextColumn("Latest run"),
    "best skill vs naive": st.column_config.NumberColumn(
        "Best skill vs naive", format="%+.3f",
        help="1 − the run's test RMSE / the naive forecast's: above 0 beats the naive "
             "forecast (repeating the last value). The student's best finished run."),
    "its test RMSE": st.column_config.NumberColumn("Its test RMSE", format="%.4g",
                                                   help="The error of that best run on the "
                                                        "test part, in data units."),
    "best run": st.column_config.TextColumn("Best run"),
}


def room_ui() -> str | None:
    """The room to show: the link's, else one typed here; None (and a hint) when the code
    typed is not a room code."""
    room = ui.room()
    if room:
        st.caption(f":material/meeting_room: Room **{ui.md(room)}** (from the link).")
        return room
    typed = st.text_input(
        "Room code", key="board_room", max_chars=20, placeholder="e.g. bio-2b",
        help="The code in the link you gave the class (?room=CODE). Empty: the named students "
             "who work without a room code.")
    try:
        return classroom.check_room(typed)
    except ui.RnnlabError as exc:
        st.warning(ui.md(exc), icon=":material/meeting_room:")
        return None


def lesson_ui() -> str:
    """Optionally one lesson: the prefix of its runs' names ('' for every run of the room)."""
    try:
        found = lessons.load_lessons()
    except ui.RnnlabError as exc:
        st.caption(f"The lessons cannot be read ({ui.md(exc)}); every run of the room is shown.")
        return ALL_RUNS
    titles = {ALL_RUNS: "Every run of the room", **{i: f.title for i, f in found.items()}}
    chosen = st.selectbox("Lesson", list(titles), key="board_lesson", format_func=titles.get,
                          help="Only the runs of one lesson (by their names), or every run "
                               "queued from the room.")
    return found[chosen].run_name("") if chosen in found else ALL_RUNS


def table(rows: list[classroom.StudentRow]) -> pd.DataFrame:
    """The board's rows as a table (numbers as numbers, missing ones empty)."""
    frame = pd.DataFrame([r.row() for r in rows], columns=list(COLUMNS))
    for col in ("best skill vs naive", "its test RMSE"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def projector_ui(rows: list[classroom.StudentRow], runs: list[RunRecord]) -> None:
    """Pick a student's finished run and show its predictions large."""
    st.subheader("Show on the projector")
    done = {r.owner: [x for x in runs if x.owner == r.owner and x.status == RunStatus.DONE]
            for r in rows}
    students = [r.owner for r in rows if done[r.owner]]
    if not students:
        st.caption("When a student's run has finished, it can be shown here, large.")
        return
    left, right = st.columns(2)
    student = left.selectbox("Student", students, key="board_student",
                             help="Whose run to show to the class.")
    best = next((r.best for r in rows if r.owner == student), None)
    mine = sorted(done[student], key=lambda r: (r.id != (best.id if best else ""),
                                                -(r.created_at or 0.0)))
    labels = {r.id: ("best · " if best and r.id == best.id else "") + ui.run_label(r)
              for r in mine}
    run_id = right.selectbox("Run", list(labels), key=f"board_run_{student}",
                             format_func=labels.get,
                             help="Their best run comes first (highest skill vs naive).")
    run = next(r for r in mine if r.id == run_id)
    score = skill(run)
    st.markdown(f"**{ui.md(student)}** · {ui.md(run.name or run.id)}"
                + (f" · skill vs naive {score:+.3f}" if score is not None else ""))
    pred = ui.read_csv_artefact(run.id, PREDICTIONS)
    if pred is None or pred.empty or "kind" not in pred:
        st.info("This run has no predictions to draw.", icon=":material/info:")
    else:
        target = run.result.target or run.config.get("data", {}).get("target")
        fig = figures.predictions_figure(pred, ONE_STEP, 1, target=target)
        fig.update_layout(height=PROJECTOR_HEIGHT)
        ui.chart(fig, "board_projector_chart")
    ui.page_link("results", "Open this run on the Results page", icon=":material/query_stats:",
                 run=run.id)


def board_fragment(room: str, prefix: str) -> None:
    """The sentence, the table, the chart and the projector, refreshed while runs train."""
    active = any(r.room == room for r in ui.store().list_runs(ui.ACTIVE))

    @st.fragment(run_every=ui.poll_every(FAST_POLL if active else SLOW_POLL))
    def refresh() -> None:
        try:               # a fragment's reruns are not guarded by app.py
            runs = classroom.room_runs(ui.store().list_runs(), room, prefix)
        except ui.RnnlabError as exc:
            st.error(f"The class's runs cannot be read: {ui.md(exc)}", icon=":material/block:")
            return
        rows = classroom.board(runs)
        st.markdown(f"#### {ui.md(classroom.class_sentence(rows))}")
        if not rows:
            where = f"room {room}" if room else "no room code"
            st.info(f"Nothing to show yet for {ui.md(where)}. Students open the link with "
                    "?room=CODE, type their name in the sidebar and press Train or Run; "
                    "they appear here.", icon=":material/groups:")
            return
        st.dataframe(table(rows), key="board_table", hide_index=True, column_config=COLUMNS)
        ui.chart(figures.class_skill_figure({r.owner: skill(r.best) if r.best else None
                                             for r in rows}), "board_chart")
        st.caption("Each dot is one student's best finished run. Above 0 it beats the naive "
                   "forecast; the dashed line is the class's median.")
        projector_ui(rows, runs)

    refresh()


def main() -> None:
    """The Class board page."""
    st.title("Class board")
    st.caption("How the class is doing: one row per student who typed a name, their runs and "
               "their best result. Names are what students typed: not accounts.")
    left, right = st.columns(2)
    with left:
        room = room_ui()
    with right:
        prefix = lesson_ui()
    if room is None:
        st.stop()
    if room:
        students_link(room)
    board_fragment(room, prefix)


def students_link(room: str) -> None:
    """The link that puts students in this room (the app's start, with ?room=CODE)."""
    url = getattr(st.context, "url", None)
    if not url:
        return
    base = url.split("?")[0]
    base = base[:-len("board")] if base.endswith("/board") else base.rstrip("/") + "/"
    st.caption(f":material/link: Link for the students: {base}?room={room}")


if __name__ == "__main__":
    main()

"""Train: queue the current setup, follow every run live, cancel, resume or delete runs."""

from __future__ import annotations

import streamlit as st

from rnnlab import cells
from rnnlab import config as cfgmod
from rnnlab import classroom, coach, figures, groups, jobs, ui
from rnnlab.store import LOSS_COLUMNS, RESUMABLE, RunRecord, RunStatus
from rnnlab.ui import group_ui

LIST_LIMIT = 12
AUTO_WATCH = "_runs_watch_auto"   # the run the live view picked by itself (not the user)
FAST_POLL, SLOW_POLL = 1.5, 10.0   # seconds between refreshes with / without active runs


def setup_text(run_cfg: cfgmod.RunConfig) -> str:
    """The setup in one line: data, network, window, epochs."""
    m, t, d = run_cfg.model, run_cfg.train, run_cfg.data
    cell = cfgmod.CELL_LABELS[m.cell]
    stacked = cells.get(m.cell).stacked
    net = f"echo state network ({m.reservoir_size} neurons)" if not stacked else \
        f"{m.n_layers} × {cell}({', '.join(map(str, m.units_per_layer))})"
    return (f"**{ui.md(ui.source_label(d.source))}** → {ui.md(d.target or 'default column')} · {net} · "
            f"lookback {m.lookback}, horizon {m.horizon} · {t.epochs} epochs of batch "
            f"{t.batch_size}, {t.optimizer} at {t.learning_rate:g}")


def submit_ui() -> None:
    """The current setup, a name, and the Train button (queues the run and returns at once)."""
    store = ui.store()
    if not store.writable():
        st.warning(f"Training cannot start here: {ui.md(store.read_only_reason)}",
                   icon=":material/lock:")
        return
    run_cfg, error = ui.validated_config()
    if error:
        st.error(f"The current settings cannot be trained: {ui.md(error)} Fix them on the Data or "
                 "Model page.", icon=":material/block:")
        return
    st.markdown(setup_text(run_cfg))
    ui.name_prompt("train")
    unnamed = ui.name_needed()
    left, middle, right = st.columns([3, 1, 1], vertical_alignment="bottom")
    name = left.text_input(
        "Name this run (optional)", key="runs_name", max_chars=200,
        placeholder="e.g. LSTM, lookback 10",
        help="A name makes the run easy to find when comparing. Without one it is shown by its "
             "settings and id.")
    seed = run_cfg.train.seed
    seeds = middle.selectbox(
        "Seeds", SEED_CHOICES, key="runs_seeds",
        format_func=lambda n: "1 run" if n == 1 else f"× {n} seeds",
        help=f"One run is one draw: its score depends on the random start. × N trains the same "
             f"setup N times, with the seeds {seed}, {seed + 1}, …, and shows them as one group: "
             "how many beat the naive forecast, and how far apart they are.")
    label = "Train" if seeds == 1 else f"Train × {seeds} seeds"
    if right.button(label, type="primary", key="runs_submit", width="stretch",
                    disabled=unnamed,
                    help="Type your name first (above, or in the sidebar)." if unnamed else
                    "Queue this setup. Training runs in the background: you can leave "
                    "this page, close the tab, or queue more runs."):
        chosen = run_cfg.replace(name=name.strip()) if name.strip() else run_cfg
        if seeds == 1:
            submit(chosen)
        else:
            submit_seeds(chosen, seeds)
    repeat_ui()
    group_ui.sweep_controls(run_cfg, ui.owner(), ui.room())


SEED_CHOICES = [1, *range(groups.MIN_SEEDS, groups.MAX_SEEDS + 1)]


def submit_seeds(run_cfg: cfgmod.RunConfig, seeds: int) -> None:
    """Queue the setup once per seed, as one group; a user mistake shows as st.error."""
    try:
        group_id, run_ids = jobs.submit_seeds(ui.store(), run_cfg, seeds, owner=ui.owner(),
                                              room=ui.room())
    except jobs.QueueFull as exc:
        queue_full(exc)
        return
    except ui.RnnlabError as exc:
        st.error(f"These runs cannot start: {ui.md(exc)}", icon=":material/block:")
        return
    ui.runner()
    st.session_state["runs_watch"] = run_ids[0]
    st.toast(f"Queued {seeds} runs (seeds {run_cfg.train.seed}–{run_cfg.train.seed + seeds - 1}) "
             f"as group {group_id}.", icon=":material/check_circle:")


def submit(run_cfg: cfgmod.RunConfig, reuse: bool = True) -> bool:
    """Queue a run; a user mistake (e.g. lookback longer than the data) shows as st.error, a
    full turn (RNNLAB_MAX_QUEUED_PER_USER) says so. A repeat of a finished or training run
    (same settings, data and seed) is answered from it: a notice offers to train anyway."""
    st.session_state.pop(REPEAT_KEY, None)
    try:
        run_id = jobs.submit(ui.store(), run_cfg, owner=ui.owner(), room=ui.room(),
                             reuse=reuse)
    except jobs.QueueFull as exc:
        queue_full(exc)
        return False
    except ui.RnnlabError as exc:
        st.error(f"This run cannot start: {ui.md(exc)}", icon=":material/block:")
        return False
    ui.runner()
    st.session_state["runs_watch"] = run_id
    twin = ui.store().get_run(run_id).repeat_of
    if twin:
        st.session_state[REPEAT_KEY] = {"run": run_id, "twin": twin,
                                        "config": run_cfg.to_dict()}
        st.toast(f"Run {run_id} repeats run {twin}: no training needed.",
                 icon=":material/content_copy:")
    else:
        st.toast(f"Queued run {run_id}.", icon=":material/check_circle:")
    return True


REPEAT_KEY = "_runs_repeat"   # the last run queued, when it was a repeat: {run, twin, config}


def queue_full(exc: Exception) -> None:
    """The person already has as many runs waiting as the server allows."""
    st.error(f"Not queued: {ui.md(exc)}", icon=":material/hourglass_disabled:")


def repeat_notice(twin_id: str) -> str:
    """What a repeat shows, in words: which run's results, and whether they are there yet."""
    try:
        twin = ui.store().get_run(twin_id)
    except ui.RnnlabError:
        return (f"Same settings, data and seed as run {twin_id}: its results are shown without "
                "training again.")
    who = f"“{ui.md(twin.name)}” ({twin.id})" if twin.name else twin.id
    later = "" if twin.status == RunStatus.DONE else \
        " as soon as it finishes (it is still training or waiting)"
    return (f"Same settings, data and seed as run {who}: its results are shown without training "
            f"again{later}. Training again would give the same numbers.")


def repeat_ui() -> None:
    """After a repeat: say so, with a button that trains the same setup anyway."""
    repeat = st.session_state.get(REPEAT_KEY)
    if not repeat:
        return
    with st.container(border=True, key="runs_repeat_box"):
        st.info(repeat_notice(repeat["twin"]), icon=":material/content_copy:")
        go, dismiss, _ = st.columns([2, 1, 3])
        again = go.button("Train again anyway", key="runs_train_anyway",
                          icon=":material/replay:",
                          help="Queue a new run that trains these settings itself (it takes "
                               "as long as the first one).")
        if dismiss.button("OK", key="runs_repeat_ok", help="Hide this notice."):
            st.session_state.pop(REPEAT_KEY, None)
            st.rerun()
    if again:
        try:
            run_cfg = cfgmod.RunConfig.from_dict(repeat["config"])
        except ui.RnnlabError as exc:
            st.session_state.pop(REPEAT_KEY, None)
            st.error(f"These settings cannot be trained again: {ui.md(exc)}",
                     icon=":material/block:")
            return
        if submit(run_cfg, reuse=False):
            st.rerun()   # the notice goes: the new run trains itself


def action_buttons(run: RunRecord) -> None:
    """Cancel (queued/running), resume (interrupted/cancelled), delete (not running); none on
    a read-only store."""
    if not ui.store().writable():
        return
    if run.status in ui.ACTIVE and not run.cancel_requested:
        st.button("Cancel", key=f"runs_cancel_{run.id}", on_click=act,
                  args=("cancel", run.id, f"Asked run {run.id} to stop."),
                  help="Stop this run at the next batch. A cancelled run can be resumed later.")
    if run.status in RESUMABLE:
        st.button("Resume", key=f"runs_resume_{run.id}", on_click=act,
                  args=("resume", run.id, f"Run {run.id} is queued to continue."),
                  help="Queue it again; it continues from its last saved epoch.")
    if run.status != RunStatus.RUNNING:
        st.button("Delete", key=f"runs_delete_{run.id}", on_click=ask_delete, args=(run.id,),
                  help="Remove the run and its files (you will be asked to confirm).")


def act(action: str, run_id: str, done: str) -> None:
    """Button callback: cancel, resume or delete a run; a refusal is kept to be shown."""
    st.session_state.pop("runs_confirm_delete", None)
    try:
        getattr(jobs, action)(ui.store(), run_id)
    except ui.RnnlabError as exc:
        st.session_state["runs_problem"] = str(exc)
        return
    if action == "delete" and st.session_state.get("runs_watch") == run_id:
        st.session_state.pop("runs_watch", None)
    st.toast(done)


def ask_delete(run_id: str | None) -> None:
    """Button callback: show (or, with None, hide) the delete confirmation."""
    if run_id is None:
        st.session_state.pop("runs_confirm_delete", None)
    else:
        st.session_state["runs_confirm_delete"] = run_id


def confirm_delete_ui(run: RunRecord) -> None:
    """Ask before deleting: the run's files cannot be brought back."""
    with st.container(border=True):
        st.warning(f"Delete run **{ui.md(run.label)}** and all its files? This cannot be undone.",
                   icon=":material/delete:")
        yes, no, _ = st.columns([1, 1, 4])
        yes.button("Yes, delete", key=f"runs_delete_yes_{run.id}", type="primary",
                   on_click=act, args=("delete", run.id, f"Deleted run {run.id}."),
                   help="Delete the run now.")
        no.button("Keep it", key=f"runs_delete_no_{run.id}", on_click=ask_delete, args=(None,),
                  help="Do not delete.")


def run_row(run: RunRecord, places: dict[str, str] | None = None) -> None:
    """One run: name and status (a queued run's place in line; a repeat says whose results it
    shows), progress (epoch k/N), elapsed and ETA, actions."""
    with st.container(border=True):
        info, progress, timing, actions = st.columns([4, 3, 2, 2], vertical_alignment="center")
        info.markdown(ui.run_label(run, icon=True))
        stopping = run.cancel_requested and run.status == RunStatus.RUNNING
        info.caption(ui.STATUS_WORDS.get(run.status, run.status.value)
                     + (" · stopping at the next batch…" if stopping else ""))
        where = (places or {}).get(run.id)
        if where:
            info.caption(f":material/format_list_numbered: {where}")
        if run.repeat_of:
            info.caption(f":material/content_copy: {repeat_words(run)}")
        progress.progress(run.progress, text=f"epoch {run.epochs_done}/{run.epochs_total}")
        timing.markdown(f"elapsed {ui.fmt_seconds(run.elapsed)}  \n{eta_text(run)}")
        with actions:
            action_buttons(run)
            if run.status.finished and run.status != RunStatus.CANCELLED:
                ui.page_link("results", "Results", icon=":material/query_stats:", run=run.id)
        if run.status == RunStatus.FAILED and run.error:
            st.caption(f":material/error: {ui.md(run.error)}")
        elif run.status == RunStatus.DIVERGED:
            message = run.result.message or run.error or "The loss became NaN."
            st.caption(f":material/bolt: {ui.md(message)}")
    if st.session_state.get("runs_confirm_delete") == run.id:
        confirm_delete_ui(run)


def repeat_words(run: RunRecord) -> str:
    """A repeat, in words: whose results it shows, or whom it waits for."""
    if run.status == RunStatus.QUEUED:
        return (f"repeat of {run.repeat_of}: waits for that run (same settings, data and "
                "seed), then shows its results")
    return f"repeat of {run.repeat_of}: its results, not trained again"


def queue_places(runs: list[RunRecord]) -> dict[str, str]:
    """Each queued run's place in line and when it should start, in words (fair turns: the
    runner's own order)."""
    if not any(r.status == RunStatus.QUEUED for r in runs):
        return {}
    order = ui.store().queue_order()
    running = [r for r in runs if r.status == RunStatus.RUNNING]
    finished = [r for r in runs if r.status == RunStatus.DONE]
    workers = ui.concurrency()
    return {run_id: classroom.place_sentence(run_id, order, workers, running, finished)
            for run_id in order}


def eta_text(run: RunRecord) -> str:
    """Time left while training; after the last epoch the run is still scoring the test part."""
    if run.status != RunStatus.RUNNING:
        return "ETA —"
    if run.epochs_total and run.epochs_done >= run.epochs_total:
        return "scoring the test part…"
    return f"ETA {ui.fmt_seconds(run.eta)}"


def list_items(runs: list[RunRecord]) -> list[RunRecord | list[RunRecord]]:
    """The runs, newest first, with each group's runs gathered into one item (in seed order)
    where its newest run stands."""
    members: dict[str, list[RunRecord]] = {}
    for run in runs:
        if run.group_id:
            members.setdefault(run.group_id, []).append(run)
    items: list[RunRecord | list[RunRecord]] = []
    for run in runs:
        if not run.group_id:
            items.append(run)
        elif members[run.group_id][0] is run:
            items.append(sorted(members[run.group_id], key=lambda r: (r.created_at, r.id)))
    return items


def group_row(runs: list[RunRecord], places: dict[str, str] | None = None) -> None:
    """A group as one item: its name, how far its runs are, its sentence, its spread and band
    chart, and its runs one by one in an expander."""
    first = runs[0]
    active = [r for r in runs if r.status in ui.ACTIVE]
    with st.container(border=True):
        info, progress, actions = st.columns([5, 3, 2], vertical_alignment="center")
        info.markdown(f":material/stacks: **{ui.md(first.group_label)}** · group {first.group_id}")
        counts: dict[str, int] = {}
        for run in runs:
            word = ui.STATUS_WORDS.get(run.status, run.status.value)
            counts[word] = counts.get(word, 0) + 1
        info.caption(" · ".join(f"{n} {word}" for word, n in counts.items()))
        done = sum(r.epochs_done for r in runs)
        total = sum(r.epochs_total for r in runs) or 1
        progress.progress(min(1.0, done / total), text=f"epochs {done}/{total} over {len(runs)} runs")
        with actions:
            if active and ui.store().writable():
                st.button("Cancel all", key=f"runs_cancel_group_{first.group_id}",
                          on_click=cancel_group, args=([r.id for r in active],),
                          help="Stop every run of this group that is queued or training.")
            ui.page_link("results", "Results", icon=":material/query_stats:", run=first.id)
        st.markdown(ui.md(groups.kind_sentence(runs)))
        # drawn only on demand: a page listing many groups stays fast
        if st.toggle("Show the spread over the runs and their loss band",
                     key=f"runs_group_details_{first.group_id}",
                     help="The group's scores run by run, its grid or folds, and the loss "
                          "curves as a median line with a band."):
            group_ui.summary_ui(runs, first.group_id)
        with st.expander(f"The {len(runs)} runs one by one"):
            for run in runs:
                run_row(run, places)


def cancel_group(run_ids: list[str]) -> None:
    """Button callback: cancel the group's queued and running runs."""
    for run_id in run_ids:
        try:
            jobs.cancel(ui.store(), run_id)
        except ui.RnnlabError:   # it ended meanwhile
            pass
    st.toast(f"Asked {len(run_ids)} runs to stop.")


def runs_ui(runs: list[RunRecord], items: list, places: dict[str, str] | None = None) -> None:
    """The heading of the list of runs and its live part: `items`, the runs that train or wait
    (or did when the page was drawn), newest first, a group's runs as one item, a queued run
    with its place in line."""
    st.header("Runs")
    problem = st.session_state.pop("runs_problem", None)
    if problem:
        st.error(problem, icon=":material/block:")
    if not runs:
        st.info("No runs yet. Press **Train** above to start one.", icon=":material/flag:")
        return
    for item in items:
        if isinstance(item, list):
            group_row(item, places)
        else:
            run_row(item, places)


def finished_ui(items: list, shown: int) -> None:
    """The rest of the list, drawn with the page: runs that had finished when it was drawn (a
    finished run does not change), up to LIST_LIMIT items in all with the `shown` live ones."""
    if not items:
        return
    show_all = st.toggle("Show all runs", key="runs_show_all",
                         help=f"Only the {LIST_LIMIT} newest runs are listed unless this is on.")
    for item in items if show_all else items[:max(0, LIST_LIMIT - shown)]:
        if isinstance(item, list):
            group_row(item)
        else:
            run_row(item)


def item_ids(item: RunRecord | list[RunRecord]) -> set[str]:
    """The run ids of one item of the list (a run, or a group's runs)."""
    return {r.id for r in item} if isinstance(item, list) else {item.id}


def watched_run(runs: list[RunRecord]) -> RunRecord | None:
    """The run whose curves are drawn: the one the user picked, else the running one, else the
    one shown before, else the newest. A run the page picked by itself is not a pick: when a
    run starts training, the curves follow it."""
    by_id = {r.id: r for r in runs}
    chosen = st.session_state.get("runs_watch")
    if chosen in by_id and chosen != st.session_state.get(AUTO_WATCH):
        return by_id[chosen]
    running = [r for r in runs if r.status == RunStatus.RUNNING]
    pick = running[0] if running else by_id.get(chosen) or (runs[0] if runs else None)
    if pick is not None:
        st.session_state[AUTO_WATCH] = pick.id
    return pick


def live_ui(runs: list[RunRecord]) -> None:
    """Loss curve and gradient norm of the watched run, refreshed with the list."""
    run = watched_run(runs)
    if run is None:
        return
    st.header("Live view")
    ids = [r.id for r in runs]
    st.session_state["runs_watch"] = run.id
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    labels = {r.id: ui.run_label(r) for r in runs}
    left.selectbox("Run to watch", ids, key="runs_watch", format_func=labels.get,
                   help="The curves below follow this run, epoch by epoch.")
    log_y = right.toggle("Log scale", key="runs_log_y",
                         help="A log scale shows small late improvements in the loss better.")
    ui.chart(figures.loss_figure(ui.loss_curves(run, LOSS_COLUMNS), log_y=log_y), "runs_loss_chart")
    st.caption("The loss on the training and validation parts after each epoch. Both should "
               "fall; validation rising while training falls means over-fitting.")
    clipnorm = run.config.get("train", {}).get("clipnorm")
    ui.chart(figures.step_norm_figure(ui.step_norms(run), clipnorm), "runs_grad_chart")
    st.caption("The size of the whole gradient at every training step: spikes mean exploding "
               "gradients" + ("; the red dashed line is the clipping threshold." if clipnorm
                              else "."))
    coach_ui(run)


def coach_ui(run: RunRecord) -> None:
    """The coach's diagnoses of the watched run, live; a Try this button fills in the settings."""
    if run.epochs_done < 3:
        return
    for found in ui.diagnoses(run):
        with st.container(border=True):
            st.markdown(f":material/lightbulb: **{ui.md(found.title)}**  \n{ui.md(found.evidence)}"
                        f"  \n{ui.md(found.advice)}")
            if found.try_this and st.button(f"Try this: {found.try_label}",
                                            key=f"runs_try_{found.code}",
                                            help=f"Fills in {found.settings} on top of this run's "
                                                 "settings; then press Train above."):
                ui.set_config(coach.apply(run.config, found))
                st.session_state["_tried"] = found.settings
                st.rerun(scope="app")


def live_fragment() -> None:
    """The live view and the runs that train or wait in one fragment that refreshes itself (no
    full-page reruns); the finished runs below it, drawn with the page.

    A finished run does not change, and under a class redrawing every listed run on every
    refresh was most of the web process's work (bench/RESULTS.md, "Load"). A run that finishes
    while the page is open stays in the refreshing part, where the student saw it train; a run
    queued meanwhile (by anyone) joins it."""
    watch = (st.session_state.get("runs_watch"),)
    every = ui.store().list_runs()
    runs = ui.mine_first(every, "runs_everyone", keep=watch)
    live = {r.id for r in runs if r.status in ui.ACTIVE}
    active = any(r.status in ui.ACTIVE for r in every)
    items = list_items(runs)
    shown = sum(1 for item in items if item_ids(item) & live)

    @st.fragment(run_every=ui.poll_every(FAST_POLL if active else SLOW_POLL))
    def refresh() -> None:
        try:            # a fragment's reruns are not guarded by app.py
            every_now = ui.store().list_runs()
            if not active and any(r.status in ui.ACTIVE for r in every_now):
                st.rerun(scope="app")   # a run started: refresh at the pace of a live run
            runs_now = ui.mine_first(every_now, "runs_everyone", keep=watch, draw=False)
            now = live | {r.id for r in runs_now if r.status in ui.ACTIVE}
            live_ui(runs_now)
            runs_ui(runs_now, [item for item in list_items(runs_now) if item_ids(item) & now],
                    queue_places(every_now))
        except ui.RnnlabError as exc:
            st.error(f"The runs cannot be shown: {ui.md(exc)}", icon=":material/block:")

    refresh()
    finished_ui([item for item in items if not item_ids(item) & live], shown)


def main() -> None:
    """The Train page."""
    st.title("Train")
    st.caption("Training happens in the background. Leave this page or reload it at any time: "
               "the runs carry on and everything shown here comes from the run store.")
    tried = st.session_state.pop("_tried", None)
    if tried:
        st.success(f"The coach's settings are filled in ({tried}). Press Train to try them.",
                   icon=":material/auto_fix_high:")
    submit_ui()
    live_fragment()


if __name__ == "__main__":
    main()

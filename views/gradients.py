"""Gradients of one run (or two side by side): per tensor and epoch, per step, through time."""

from __future__ import annotations

import streamlit as st

from rnnlab import figures, ui
from rnnlab.store import RunRecord

MODES = ("One run", "Two runs side by side")
LIVE_POLL = 3.0

TENSOR_HOW = ("How to read it: one row per group of weights of a layer (input weights = "
              "applied to what the layer reads, recurrent weights = carry the state from one "
              "step to the next, bias); point at a row for its Keras name (kernel, "
              "recurrent_kernel, bias). One column per epoch; colour = gradient size, log "
              "scale. Dark rows barely learn; bright spots are big updates.")
STEPS_HOW = ("How to read it: the size of the whole gradient at every training step (its "
             "global L2 norm, ‖∂loss/∂w‖, over all the weights), log scale. Sinking towards "
             "zero = vanishing; tall spikes = exploding.")
CLIP_HOW = (" The red dashed line is the clipping threshold: steps above it are scaled down "
            "to it.")
TIME_HOW = ("How to read it: one row per epoch, one column per step back from the prediction "
            "(1 = most recent input); colour = how strongly the loss reacts to that step "
            "(|∂loss/∂x_t| for the inputs, |∂loss/∂h_t| for a layer's hidden states), log "
            "scale. Colour fading to the right = the gradient vanishes on its way back in time, "
            "so far-back steps teach little (typical of SimpleRNN; LSTM and GRU hold it longer).")
TIME_RELATIVE_HOW = ("How to read it: one row per epoch, one column per step back from the "
                     "prediction (1 = most recent input); each row is divided by its own value "
                     "1 step back, so the first column is 1× (white). Blue = weaker than 1 step "
                     "back, red = stronger: red far to the right means the network has learned "
                     "to use inputs from long ago (an LSTM can); deepening blue = the gradient "
                     "vanishes on its way back in time.")


def series_order(names) -> list[str]:
    """'input' first, then the layers bottom to top."""
    return sorted(names, key=lambda n: (n != "input", len(n), n))


def controls_ui(through_time: dict[str, dict]) -> tuple[str, str, bool]:
    """Which statistic for the tensor heatmap, and which series and scale for the
    through-time heatmap (`through_time`: each shown run's gradient through time, by run id)."""
    names = set()
    for traces in through_time.values():
        names |= set(traces)
    options = series_order(names) or ["input"]
    left, right = st.columns(2)
    stat = left.radio("Per epoch, show the gradient's", ["mean", "max"], key="grad_stat",
                      horizontal=True,
                      format_func={"mean": "average over steps", "max": "largest step"}.get,
                      help="Each epoch has many training steps: show the average gradient size, "
                           "or the largest one (spikes stand out).")
    if st.session_state.get("grad_series") not in options:
        st.session_state["grad_series"] = options[0]
    series = right.selectbox("Gradient through time of", options, key="grad_series",
                             format_func=lambda n: "the inputs x_t" if n == "input" else
                             f"the hidden states of {n.replace('_', ' ')}",
                             help="The inputs, or the hidden states of one recurrent layer.")
    relative = ui.time_scale_ui("grad_time_scale", right)
    return stat, series, relative


def run_figures(run: RunRecord, stat: str, series: str, through_time: dict | None = None,
                relative: bool = False) -> dict:
    """The three gradient views of one run, as figures (`through_time`: the run's, when the
    page has just read it; `relative`: the through-time heatmap relative to 1 step back)."""
    s = ui.store()
    clipnorm = run.config.get("train", {}).get("clipnorm")
    if through_time is None:
        through_time = s.through_time(run.id)
    return {"tensor": figures.tensor_heatmap(s.tensor_norms(run.id), stat),
            "steps": figures.step_norm_figure(s.step_norms(run.id), clipnorm),
            "time": figures.through_time_heatmap(through_time, series, relative)}


def draw(run: RunRecord, figs: dict, suffix: str, relative: bool = False) -> None:
    """One run's three charts, each with how to read it."""
    if not run.epochs_done:
        st.info("No epochs recorded yet for this run.", icon=":material/hourglass_top:")
    clipped = (run.config.get("train") or {}).get("clipnorm") is not None
    steps_how = STEPS_HOW + (CLIP_HOW if clipped else "")  # only what the chart draws
    time_how = TIME_RELATIVE_HOW if relative else TIME_HOW
    for name, how in (("tensor", TENSOR_HOW), ("steps", steps_how), ("time", time_how)):
        ui.chart(figs[name], f"grad_{name}_chart_{suffix}")
        st.caption(how)


def charts_ui(run_ids: list[str], stat: str, series: str, same_scale: bool,
              through_time: dict[str, dict], relative: bool = False) -> None:
    """One run full width, or two in columns; refreshes itself while a run trains.

    `through_time`: what the page read for its controls, used for the first drawing only
    (every refresh reads the store again)."""
    s = ui.store()
    runs_now = [s.get_run(r) for r in run_ids]
    live = any(run.status in ui.ACTIVE for run in runs_now)
    first = [(runs_now, through_time)]

    @st.fragment(run_every=ui.poll_every(LIVE_POLL) if live else None)
    def refresh() -> None:
        runs, traces = first.pop() if first else ([s.get_run(r) for r in run_ids], {})
        figs = [run_figures(run, stat, series, traces.get(run.id), relative) for run in runs]
        if len(runs) == 1:
            draw(runs[0], figs[0], "a", relative)
            return
        if same_scale:
            for name in ("tensor", "time"):
                ui.share_colour_scale([f[name] for f in figs])
        for col, run, run_figs, suffix in zip(st.columns(2), runs, figs, ("a", "b")):
            with col:
                st.markdown(f"**{ui.md(ui.run_label(run))}**")
                draw(run, run_figs, suffix, relative)

    refresh()


def main() -> None:
    """The Gradients page."""
    st.title("Gradients")
    st.caption("How the learning signal flowed through the network while it trained: the "
               "place to see vanishing and exploding gradients.")
    mode = st.radio("View", MODES, key="grad_mode", horizontal=True,
                    help="Two runs side by side, e.g. SimpleRNN vs LSTM on the same data and "
                         "seed, share the same controls.")
    pickers = st.columns(2 if mode == MODES[1] else 1)
    with pickers[0]:
        run_a = ui.run_picker_ui("Run", "grad_run",
                                 help="The address bar then links to this run, to share it.")
    if run_a is None:
        st.info("No runs yet. Train one first.", icon=":material/flag:")
        ui.page_link("train", "Go to Train", icon=":material/arrow_forward:")
        st.stop()
    ui.share_caption(run=run_a)
    run_ids = [run_a]
    if mode == MODES[1]:
        with pickers[1]:
            run_b = ui.run_picker_ui("Compare with", "grad_run_b", use_query=False,
                                     exclude=run_a, help="The second run, shown on the right.")
        if run_b is None:
            st.info("Train a second run to compare side by side.", icon=":material/info:")
        else:
            run_ids.append(run_b)
    through_time = {run_id: ui.store().through_time(run_id) for run_id in run_ids}
    stat, series, relative = controls_ui(through_time)
    same_scale = len(run_ids) == 2 and st.toggle(
        "Same colour scale for both runs", value=True, key="grad_same_scale",
        help="Equal colours then mean equal gradient sizes in both runs, so a fading "
             "SimpleRNN and a steady LSTM can be told apart at a glance.")
    charts_ui(run_ids, stat, series, same_scale, through_time, relative)


if __name__ == "__main__":
    main()

"""Bring a model: upload a model downloaded from RNN Lab, then evaluate it or train it further.

The upload is checked by `rnnlab.comeback` (size, a zip as RNN Lab makes them, no pickle); every
refusal is shown as its message. The new run is queued for the job runner, which loads the model
in a worker process (this page never loads Keras), and the page links to it on Results.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rnnlab import comeback, ui
from rnnlab.config import MAX_EPOCHS
from rnnlab.data import MAX_UPLOAD_MB

ACTIONS = {"evaluate": "Evaluate it on this file",
           "continue": "Continue training it on this file, as a new run"}
TRAINED_ON, UPLOAD = "trained_on", "upload"


def model_ui():
    """The model uploader; (the checked model, its bytes) or None (the page stops)."""
    upload = st.file_uploader(
        f"The model: the zip downloaded from a run's Results page (up to "
        f"{comeback.MAX_MODEL_MB} MB)", key="bring_model",
        max_upload_size=comeback.MAX_MODEL_MB,
        help='On the Results page of a finished run, under Downloads, "Model for new data '
             '(.zip)". Upload that file as it is, without unzipping it. Nothing in it is run: '
             "RNN Lab reads the network's weights and settings only.")
    if upload is None:
        st.info("Upload a model to continue. No model yet? Train one on the Train page, then "
                "download it from Results.", icon=":material/upload:")
        st.stop()
    seen = st.session_state.get("_bring_seen")
    if seen is None or seen[0] != upload.file_id:   # checked once per upload; one kept
        try:
            brought = comeback.inspect_upload(upload.name, upload)
            seen = (upload.file_id, brought, upload.getvalue(), None)
        except ui.RnnlabError as exc:
            seen = (upload.file_id, None, None, str(exc))
        st.session_state["_bring_seen"] = seen
        st.session_state.pop("_bring_started", None)
    _, brought, raw, refusal = seen
    if refusal:
        st.error(f"**{ui.md(upload.name)}** cannot be used: {ui.md(refusal)}",
                 icon=":material/block:")
        st.stop()
    with st.container(border=True, key="bring_described"):
        st.success(f"**{ui.md(upload.name)}** is a model from RNN Lab.",
                   icon=":material/check_circle:")
        st.markdown("\n".join(f"- {ui.md(line)}" for line in brought.describe()))
    return brought, raw


def data_ui(brought) -> str:
    """The file to use; its path (or sample name). A bad upload stops the page with its message."""
    source = comeback.base_config(brought).data.source
    choices = [UPLOAD]
    if _exists(source):
        choices.insert(0, TRAINED_ON)
    labels = {TRAINED_ON: f"The file it was trained on ({ui.source_label(source)})",
              UPLOAD: "Another file with the same columns"}
    choice = st.radio("The data", choices, format_func=labels.get, key="bring_source",
                      horizontal=True)
    if choice == TRAINED_ON:
        return source
    upload = st.file_uploader(
        f"A file with the column(s) {', '.join(brought.inputs)} (CSV, TSV, Excel or Parquet, up "
        f"to {MAX_UPLOAD_MB} MB)", key="bring_data",
        help="The same columns as the file the model was trained on, one row per time step; "
             "other columns are left out.")
    if upload is None:
        st.info("Upload the file to evaluate the model on, or to train it further on.",
                icon=":material/upload:")
        st.stop()
    seen = st.session_state.setdefault("_bring_data_seen", {})
    if upload.file_id not in seen:
        try:
            raw = upload.getvalue()
            from rnnlab import data as data_mod

            data_mod.load(raw, filename=upload.name)
            seen[upload.file_id] = (str(ui.save_upload(raw, upload.name)), None)
        except ui.RnnlabError as exc:
            seen[upload.file_id] = (None, str(exc))
    path, problem = seen[upload.file_id]
    if problem:
        st.error(f"**{ui.md(upload.name)}** cannot be used: {ui.md(problem)}",
                 icon=":material/block:")
        st.stop()
    return path


def _exists(source: str) -> bool:
    """Whether the file (or sample) a model was trained on is still on this server."""
    from rnnlab.samples import resolve_source

    try:
        return Path(resolve_source(source)).is_file()
    except (ui.RnnlabError, OSError, ValueError):
        return False


def action_ui(brought, raw: bytes, source: str) -> None:
    """Evaluate or continue: the options, the button, and the new run's link."""
    why_not = brought.can_continue
    action = st.radio("What to do", list(ACTIONS), format_func=ACTIONS.get, key="bring_action",
                      help="Evaluate: score the model as it is. Continue: train it further, "
                           "starting from its trained weights.")
    fraction = st.slider(
        "Share of the file to score (its last rows)", 0.05, 0.5,
        value=min(0.5, max(0.05, comeback.default_test_fraction(brought))), step=0.05,
        format="%.2f", key="bring_test_share",
        help="The model is scored on the last rows of the file, as a trained run is on its "
             "test part. The rows before them give the first windows their past and fit the "
             "baselines that need fitting (the linear autoregression, the mean). The default "
             "is the model's own run's test share, so the file it was trained on gives the same "
             "test predictions.")
    writable = ui.store().writable()
    if action == "evaluate":
        st.caption("The model is not trained: RNN Lab runs it on the file with its own scaling "
                   "and transform, then scores it against the naive, seasonal naive and linear "
                   "baselines, on the Results page as for any run.")
        clicked = st.button("Evaluate", type="primary", key="bring_go", disabled=not writable)
        make = lambda: comeback.evaluate_config(  # noqa: E731
            brought, source, test_fraction=fraction)
    else:
        if why_not:
            st.warning(ui.md(why_not), icon=":material/block:")
            st.stop()
        base = comeback.base_config(brought).train
        left, right = st.columns(2)
        epochs = left.number_input("More epochs", 1, MAX_EPOCHS, 10, key="bring_epochs",
                                   help="How many epochs to train, from the model's weights.")
        rate = right.number_input("Learning rate", 1e-6, 1.0, float(base.learning_rate),
                                  format="%g", key="bring_lr",
                                  help="The model's own run used this rate; a smaller one "
                                       "changes what it learned more gently.")
        st.caption("A new run with the model's settings starts from its trained weights (the "
                   "optimizer starts afresh) and keeps its scaling and transform, so the first "
                   "epoch's loss starts where the model left off. The original run is not "
                   "changed.")
        clicked = st.button("Start training", type="primary", key="bring_go",
                            disabled=not writable)
        make = lambda: comeback.continue_config(brought, source, epochs=int(epochs),  # noqa: E731
                                                learning_rate=float(rate),
                                                test_fraction=fraction)
    if not writable:
        st.warning("The run store is read-only: no new run can start. The Train page says why.",
                   icon=":material/lock:")
    if clicked:
        start(brought, raw, make)
    started = st.session_state.get("_bring_started")
    if started:
        st.success(f"Run **{ui.md(started[1])}** is queued: the job runner "
                   f"{'scores it' if started[2] == 'evaluate' else 'trains it'} in a moment.",
                   icon=":material/check_circle:")
        ui.page_link("results", "See it on the Results page", icon=":material/arrow_forward:",
                     run=started[0])


def start(brought, raw: bytes, make) -> None:
    """Queue the run; a problem with the file or the store is shown as its message."""
    try:
        run_cfg = make()
        run_id, _ = comeback.register(ui.store(), brought, raw, run_cfg, owner=ui.owner(),
                                       room=ui.room())
    except ui.RnnlabError as exc:
        st.error(f"The run could not start: {ui.md(exc)}", icon=":material/block:")
        st.stop()
    st.session_state["_bring_started"] = (run_id, run_cfg.name, run_cfg.from_model.action)


def main() -> None:
    """The Bring a model page."""
    st.title("Bring a model")
    st.markdown("Upload a model that RNN Lab made, to score it on a new file with the same "
                "columns, or to train it further as a new run. Only RNN Lab's own downloads "
                "are accepted; nothing in the file is run.")
    brought, raw = model_ui()
    source = data_ui(brought)
    action_ui(brought, raw, source)


if __name__ == "__main__":
    main()

"""Model: shape the recurrent network and how it is trained; see its size, its diagram, its code."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnnlab import cells, codegen, figures, model_info, ui, validate
from rnnlab import config as cfgmod

INIT_LABELS = {"glorot_uniform": "Glorot uniform (Keras default for inputs)",
               "orthogonal": "Orthogonal (Keras default for the recurrent kernel)",
               "identity": "Identity (keeps the state as it is, IRNN)",
               "random_normal": "Random normal (std = scale)"}
OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD (plain gradient descent)", "rmsprop": "RMSprop"}
LOSS_LABELS = {"mse": "Squared error", "mae": "Absolute error", "huber": "Huber"}


def bind(widget, key: str, section: str, name: str, label: str, **kwargs):
    """Draw a widget seeded from config[section][name] and write its value back there (in its
    change callback, so a click on another page right after a change cannot lose it)."""
    value = ui.get_value(section, name)
    low = kwargs.get("min_value")
    if isinstance(low, float) and isinstance(value, (int, float)):
        value = float(value)  # a JSON 1 for a float setting: widgets refuse mixed types
    elif isinstance(low, int) and isinstance(value, float) and value.is_integer():
        value = int(value)
    ui.seed(key, value)
    value = widget(label, **ui.bound(key, section, name), **kwargs)
    ui.set_value(section, name, value)
    return value


def first(value):
    """A per-layer setting shown as one value (the first layer's)."""
    return value[0] if isinstance(value, (list, tuple)) else value


def preset_names() -> dict[str, str]:
    """Preset name -> title: the config presets, then one per run of each lesson."""
    names = {name: factory().name or name for name, factory in cfgmod.PRESETS.items()}
    for name, (title, _) in ui.lesson_presets().items():
        names.setdefault(name, title)
    return names


def load_preset(name: str | None) -> None:
    """Button callback: replace every setting with a preset's and put it in the link."""
    if name and ui.use_preset(name, ""):
        st.query_params["preset"] = name


def preset_ui() -> None:
    """Load a preset (the seed tutorial, one run of a lesson) into every setting."""
    names = preset_names()
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    choice = left.selectbox(
        "Start from a preset", list(names), key="model_preset", index=None,
        format_func=names.get, placeholder="Keep my settings",
        help="A preset fills in the data, the network and the training settings at once. "
             "The link in your address bar then opens this preset for anyone you share it with.")
    right.button("Load preset", key="model_apply_preset", disabled=choice is None,
                 on_click=load_preset, args=(choice,),
                 help="Replace all current settings (data included) with the preset's.")
    applied = st.session_state.get("_applied_preset")
    if applied:
        ui.share_caption(preset=applied)


def network_ui() -> str:
    """Cell, stack, units, dropout, direction; returns the cell."""
    model = ui.config_dict()["model"]
    for name in ("units", "dropout", "recurrent_dropout"):
        model[name] = first(model[name])
    c1, c2, c3 = st.columns(3)
    cell = bind(c1.selectbox, "model_cell", "model", "cell", "Cell", options=list(cfgmod.CELLS),
                format_func=cfgmod.CELL_LABELS.get,
                help="The recurrent unit repeated at every step. SimpleRNN is the plain one "
                     "(forgets fast, gradients vanish); LSTM and GRU have gates that keep "
                     "memories longer; an echo state network keeps a fixed random reservoir "
                     "and only learns its read-out.")
    if not cells.get(cell).stacked:
        return cell
    bind(c2.number_input, "model_layers", "model", "n_layers", "Layers", min_value=1,
         max_value=cfgmod.MAX_LAYERS, step=1,
         help="How many recurrent layers are stacked; each reads the sequence of states of the "
              "one below. 1–2 is plenty for most series.")
    bind(c3.number_input, "model_units", "model", "units", "Units per layer", min_value=1,
         max_value=cfgmod.MAX_UNITS, step=1,
         help="Size of each layer's memory (its state vector). More units learn more patterns "
              "but need more data and time.")
    c1, c2, c3 = st.columns(3)
    bind(c1.slider, "model_dropout", "model", "dropout", "Dropout", min_value=0.0,
         max_value=0.9, step=0.05,
         help="Share of each layer's outputs switched off at random while training, so the "
              "network cannot lean on a few units. Fights over-fitting; 0.2 is typical.")
    bind(c2.slider, "model_recurrent_dropout", "model", "recurrent_dropout",
         "Recurrent dropout", min_value=0.0, max_value=0.9, step=0.05,
         help="Dropout on the state carried from one step to the next. Regularises memory; it "
              "also makes training slower.")
    if ui.classroom():
        own_loop_caption()
        return cell
    bind(c3.toggle, "model_bidirectional", "model", "bidirectional", "Bidirectional",
         help="Also read each window backwards and join both readings. Can help with "
              "patterns, but the model then sees the whole window at once.")
    bind(c3.toggle, "model_linear_skip", "model", "linear_skip", "Linear path",
         help="Adds a straight-line forecast (a weighted sum of the window, fitted by least "
              "squares before training) to the network's output, so the network only learns "
              "what that line misses. Try it when the linear autoregression baseline beats the "
              "network. The gradient views then include the line's share in the input's "
              "gradient.")
    ui.advice_caption(c3, "model", "linear_skip", "linear_skip")
    own_loop_caption()
    return cell


def own_loop_caption() -> None:
    """Say when recurrent dropout or a bidirectional layer leaves rnnlab's fast loops for
    Keras' own, slower one (rnnlab.cells knows which cells have fast loops)."""
    if not validate.fast_loops_expected():
        return
    try:
        note = cells.own_loop_note(cfgmod.ModelConfig(**ui.config_dict()["model"]))
    except (ui.RnnlabError, TypeError):   # a setting out of range: the page says so below
        return
    if note:
        st.caption(note)


def esn_ui() -> None:
    """Reservoir settings for the echo state network (only its size in classroom mode)."""
    c1, c2, c3 = st.columns(3)
    bind(c1.number_input, "model_reservoir", "model", "reservoir_size", "Reservoir size",
         min_value=10, max_value=5000, step=10,
         help="Number of randomly connected neurons in the fixed reservoir.")
    if ui.classroom():
        return
    bind(c2.number_input, "model_spectral_radius", "model", "spectral_radius",
         "Spectral radius", min_value=0.01, max_value=3.0, step=0.05, format="%g",
         help="How strongly the reservoir echoes its past. Just below 1 remembers long without "
              "blowing up; above 1 can become chaotic.")
    bind(c3.number_input, "model_leak_rate", "model", "leak_rate", "Leak rate",
         min_value=0.01, max_value=1.0, step=0.05, format="%g",
         help="How fast the reservoir state changes: 1 = at once, smaller = slow and smooth.")
    c1, c2, c3 = st.columns(3)
    bind(c1.number_input, "model_input_scaling", "model", "input_scaling", "Input scaling",
         min_value=0.01, max_value=100.0, step=0.1, format="%g",
         help="How strongly the inputs drive the reservoir.")
    bind(c2.number_input, "model_ridge", "model", "ridge", "Ridge penalty", min_value=0.0,
         max_value=1e6, step=1e-6, format="%g",
         help="Penalty on the read-out weights; larger is smoother and less over-fitted.")
    bind(c3.number_input, "train_seed", "train", "seed", "Random seed", min_value=0,
         max_value=2**31 - 1, step=1,
         help="Fixes the random reservoir, so the same settings give the same run.")


def window_ui() -> None:
    """Lookback and horizon."""
    c1, c2, _ = st.columns(3)
    bind(c1.number_input, "model_lookback", "model", "lookback", "Lookback (steps)",
         min_value=1, max_value=cfgmod.MAX_LOOKBACK, step=1,
         help="How many past steps the network reads to make one forecast. This is also how "
              "far the network is unrolled, so how far gradients must travel back in time.")
    ui.advice_caption(c1, "model", "lookback", "lookback")
    bind(c2.number_input, "model_horizon", "model", "horizon", "Horizon (steps)",
         min_value=1, max_value=cfgmod.MAX_HORIZON, step=1,
         help="How many future steps to predict at once. 1 = the next value (many-to-one); "
              "more = a whole stretch at once (many-to-many).")


def init_ui() -> None:
    """Initialisers and weight penalties."""
    c1, c2, c3 = st.columns(3)
    bind(c1.selectbox, "model_kernel_init", "model", "kernel_initializer",
         "Input weights start as", options=list(cfgmod.INITIALIZERS), format_func=INIT_LABELS.get,
         help="How the weights from the inputs are drawn before training.")
    bind(c2.selectbox, "model_recurrent_init", "model", "recurrent_initializer",
         "Recurrent weights start as", options=list(cfgmod.INITIALIZERS),
         format_func=INIT_LABELS.get,
         help="How the step-to-step weights are drawn. Their size decides whether gradients "
              "shrink (vanish) or grow (explode) as they travel back in time.")
    bind(c3.number_input, "model_init_scale", "model", "init_scale", "Initial weight scale",
         min_value=0.001, max_value=100.0, step=0.1, format="%g",
         help="Multiplies the starting recurrent weights (gain for orthogonal/identity, std for "
              "random normal). Above about 1 gradients tend to explode, well below 1 to vanish.")
    c1, c2, _ = st.columns(3)
    bind(c1.number_input, "model_l1", "model", "l1", "L1 penalty", min_value=0.0,
         max_value=10.0, step=1e-4, format="%g",
         help="Adds the sum of |weights| to the loss: pushes useless weights to exactly zero. "
              "0 = off; try 0.0001.")
    bind(c2.number_input, "model_l2", "model", "l2", "L2 penalty", min_value=0.0,
         max_value=10.0, step=1e-4, format="%g",
         help="Adds the sum of squared weights to the loss: keeps weights small, which tames "
              "exploding gradients and over-fitting. 0 = off; try 0.001.")


def training_ui() -> None:
    """Optimiser, learning rate, clipping, loss, epochs, batch, early stopping, seed."""
    c1, c2, c3 = st.columns(3)
    bind(c1.selectbox, "train_optimizer", "train", "optimizer", "Optimiser",
         options=list(cfgmod.OPTIMIZERS), format_func=OPTIMIZER_LABELS.get,
         help="The rule that turns gradients into weight updates. Adam adapts its step per "
              "weight and is the safe default.")
    bind(c2.number_input, "train_lr", "train", "learning_rate", "Learning rate",
         min_value=1e-6, max_value=10.0, step=1e-4, format="%g",
         help="How big each update step is. Too big and the loss jumps or becomes NaN; too "
              "small and learning crawls. 0.001 suits Adam.")
    bind(c3.selectbox, "train_loss", "train", "loss", "Loss", options=list(cfgmod.LOSSES),
         format_func=LOSS_LABELS.get,
         help="How a wrong forecast is scored while training. Squared error (MSE) punishes big "
              "misses most; absolute error (MAE) is robust to outliers; Huber is a mix of both.")
    c1, c2, c3 = st.columns(3)
    bind(c1.number_input, "train_epochs", "train", "epochs", "Epochs", min_value=1,
         max_value=cfgmod.MAX_EPOCHS, step=1,
         help="How many times the network sees the whole training part.")
    bind(c2.number_input, "train_batch", "train", "batch_size", "Batch size", min_value=1,
         max_value=cfgmod.MAX_BATCH, step=1,
         help="Windows per weight update. Smaller batches update more often but noisily.")
    if not ui.classroom():
        bind(c3.number_input, "train_seed", "train", "seed", "Random seed", min_value=0,
             max_value=2**31 - 1, step=1,
             help="Fixes the random start, so the same settings give the same run. Change it "
                  "to see how much results vary by luck.")
    c1, c2, c3 = st.columns(3)
    bind(c1.number_input, "train_patience", "train", "early_stopping_patience",
         "Early stopping patience", min_value=0, max_value=cfgmod.MAX_EPOCHS, step=1,
         help="Stop when the validation loss has not improved for this many epochs, and keep "
              "the best weights. 0 = train all epochs.")
    ui.advice_caption(c1, "train", "early_stopping_patience", "epochs")
    clip_ui(c2, "clipnorm", "Clip gradient norm", 1.0,
            "Rescale the whole gradient when its length exceeds the threshold: the standard "
            "cure for exploding gradients.")
    if not ui.classroom():
        clip_ui(c3, "clipvalue", "Clip values", 0.5,
                "Cut every single gradient entry to ± the threshold. Cruder than norm clipping.")


def clip_ui(container, name: str, label: str, default: float, help: str) -> None:
    """A toggle and a threshold for one kind of clipping (None when off)."""
    current = ui.get_value("train", name)
    on_key, value_key = f"train_{name}_on", f"train_{name}"
    ui.seed(on_key, current is not None)
    ui.seed(value_key, float(current) if current is not None else default)
    on = container.toggle(label, help=help, **ui.on_value(
        on_key, lambda on: set_clip(name, on, st.session_state.get(value_key, default))))
    value = container.number_input(
        "Threshold", min_value=1e-6, max_value=1e6, step=0.1, format="%g", disabled=not on,
        label_visibility="collapsed", help=f"The threshold for “{label}” while it is on.",
        **ui.on_value(value_key, lambda value: set_clip(name, st.session_state.get(on_key),
                                                         value)))
    set_clip(name, on, value)


def set_clip(name: str, on: bool, threshold: float) -> None:
    """One kind of clipping in the config: its threshold, or None when off."""
    ui.set_value("train", name, float(threshold) if on else None)


def n_features() -> int:
    """Input columns: the target plus the chosen extra columns."""
    return 1 + len(ui.get_value("data", "features") or [])


def summary_ui(model_cfg: cfgmod.ModelConfig) -> None:
    """The layer table and the parameter count, computed without TensorFlow."""
    rows = model_info.layer_table(model_cfg, n_features())
    table = pd.DataFrame([{"layer": r["layer"], "kind": r["kind"],
                           "output shape": str(tuple(r["output_shape"])).replace("None", "batch"),
                           "parameters": r["params"]} for r in rows])
    total = int(table["parameters"].sum())
    st.metric("Trainable parameters", f"{total:,}",
              help="Weights the training adjusts. A model with far more parameters than "
                   "training rows is likely to over-fit.")
    st.dataframe(table, hide_index=True, key="model_summary")


def diagram_ui(model_cfg: cfgmod.ModelConfig) -> None:
    """The stacked network unrolled over its window."""
    n_layers = cells.layers(model_cfg)
    fig = figures.unrolled_diagram(model_cfg.cell, n_layers, model_cfg.lookback,
                                   model_cfg.horizon)
    ui.chart(fig, "model_diagram")


def code_ui(run_cfg: cfgmod.RunConfig) -> None:
    """The standalone Keras script that reproduces this setup."""
    with st.expander("Show the code: this setup as a plain Keras script"):
        try:
            script = codegen.export(run_cfg, ui.script_data_hint(run_cfg.data.source))
        except ui.RnnlabError as exc:
            st.error(f"The script cannot be written for these settings: {ui.md(exc)}",
                     icon=":material/block:")
            return
        st.code(script, language="python")
        st.download_button("Download the script", script, file_name="rnnlab_model.py",
                           mime="text/x-python", key="model_download_script",
                           on_click="ignore", help="Runs on its own with TensorFlow installed.")


def main() -> None:
    """The Model page."""
    st.title("Model")
    st.caption("Shape the recurrent network and choose how it learns. Every setting explains "
               "itself: hover the ? beside it.")
    ui.classroom_note()
    preset_ui()
    settings, overview = st.columns([3, 2], gap="large")
    with settings:
        st.header("Network")
        cell = cells.get(network_ui())
        if "reservoir_size" in cell.settings:      # an echo state network's
            esn_ui()
        st.header("Window")
        window_ui()
        if not cell.fitted:
            if not ui.classroom():
                with st.expander("Initial weights and penalties"):
                    init_ui()
            st.header("Training")
            training_ui()
    run_cfg, error = ui.validated_config()
    with overview:
        if error:
            st.error(f"These settings cannot be used yet: {ui.md(error)}", icon=":material/block:")
            st.stop()
        st.header("Summary")
        summary_ui(run_cfg.model)
    diagram_ui(run_cfg.model)
    code_ui(run_cfg)
    ui.page_link("train", "Next: train it", icon=":material/arrow_forward:")


if __name__ == "__main__":
    main()

"""The recurrent cells a run can use, in one table: adding a cell is adding one `Cell` entry.

Every module asks this table about a run's cell instead of naming cells itself: the config's
choices and labels (`rnnlab.config.CELLS`, `CELL_LABELS`), the layer table and parameter count
(`rnnlab.model_info`), the Keras layer (`rnnlab.nn.model`) and the exported script's
(`rnnlab.codegen`), the diagram's boxes, which settings a page shows, whether a run is trained
epoch by epoch or fitted in one pass, whether it has gradient views, and which cells
`rnnlab.nn.kernels`' fast loops cover on JAX. Plain Python: the web process imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.artefacts import ESN_FILE, MODEL_FILE
from rnnlab.errors import ConfigError

# ModelConfig fields every cell uses
COMMON_SETTINGS = ("cell", "lookback", "horizon")
# ModelConfig fields of a stack of Keras recurrent layers trained by gradient descent
LAYER_SETTINGS = ("n_layers", "units", "dropout", "recurrent_dropout", "bidirectional",
                  "linear_skip", "kernel_initializer", "recurrent_initializer", "init_scale",
                  "l1", "l2")
# ModelConfig fields of an echo state network
RESERVOIR_SETTINGS = ("reservoir_size", "spectral_radius", "leak_rate", "input_scaling", "ridge")
# TrainConfig fields of training by gradient descent, epoch by epoch
GRADIENT_TRAINING = ("epochs", "batch_size", "optimizer", "learning_rate", "loss", "clipnorm",
                     "clipvalue", "early_stopping_patience", "seed", "track_gradients")
# Keras' weight tensors of a recurrent layer, in words: what each one multiplies
KERAS_TENSORS = (("kernel", "input weights"), ("recurrent_kernel", "recurrent weights"),
                 ("bias", "bias"))


@dataclass(frozen=True)
class Cell:
    """One recurrent cell and everything the engine, the pages and the exported script need
    to know about it."""

    key: str                  # the config's name for it: ModelConfig.cell
    label: str                # its name in words, on every page and in reports
    short: str                # its name in a diagram's small box
    diagram_label: str        # the diagram's name for a layer of it
    keras_class: str | None   # the keras.layers class; None: not a Keras layer (numpy)
    gates: int                # weight blocks in each kernel: one per gate (0: no kernel)
    bias_vectors: int         # bias vectors per layer (Keras' GRU, reset_after=True, keeps 2)
    tensors: tuple[tuple[str, str], ...]   # (tensor name, what it is in words), layer order
    fitted: bool              # fitted in one pass; False: trained epoch by epoch by gradients
    fast_loop: bool           # rnnlab.nn.kernels runs its layers on JAX (a CPU)
    settings: tuple[str, ...]         # ModelConfig fields that apply, besides COMMON_SETTINGS
    train_settings: tuple[str, ...]   # TrainConfig fields that apply
    has_gradients: bool       # gradient views: per weight tensor and through time
    model_file: str           # the trained model's file in the run folder and the bundle
    fading_fix: str | None    # the cell the coach suggests when its gradient fades too soon

    @property
    def stacked(self) -> bool:
        """Its layers stack (n_layers applies); else the network has one layer."""
        return "n_layers" in self.settings


TABLE = (
    Cell(key="simple_rnn", label="SimpleRNN", short="RNN", diagram_label="SimpleRNN",
         keras_class="SimpleRNN", gates=1, bias_vectors=1, tensors=KERAS_TENSORS,
         fitted=False, fast_loop=False, settings=LAYER_SETTINGS,
         train_settings=GRADIENT_TRAINING, has_gradients=True, model_file=MODEL_FILE,
         fading_fix="lstm"),
    Cell(key="gru", label="GRU", short="GRU", diagram_label="GRU", keras_class="GRU", gates=3,
         bias_vectors=2, tensors=KERAS_TENSORS, fitted=False, fast_loop=True,
         settings=LAYER_SETTINGS, train_settings=GRADIENT_TRAINING, has_gradients=True,
         model_file=MODEL_FILE, fading_fix=None),
    Cell(key="lstm", label="LSTM", short="LSTM", diagram_label="LSTM", keras_class="LSTM",
         gates=4, bias_vectors=1, tensors=KERAS_TENSORS, fitted=False, fast_loop=True,
         settings=LAYER_SETTINGS, train_settings=GRADIENT_TRAINING, has_gradients=True,
         model_file=MODEL_FILE, fading_fix=None),
    Cell(key="esn", label="Echo state network", short="ESN", diagram_label="Reservoir",
         keras_class=None, gates=0, bias_vectors=1,
         tensors=(("w_in", "input weights"), ("w", "reservoir weights"), ("b", "bias"),
                  ("w_out", "readout weights")),
         fitted=True, fast_loop=False, settings=RESERVOIR_SETTINGS, train_settings=("seed",),
         has_gradients=False, model_file=ESN_FILE, fading_fix=None),
)
BY_KEY = {cell.key: cell for cell in TABLE}
KEYS = tuple(BY_KEY)
DEFAULT = "lstm"


def get(key: str) -> Cell:
    """The cell named `key`; ConfigError naming the choices when there is none."""
    if key not in BY_KEY:
        raise ConfigError(f"cell must be one of {', '.join(KEYS)}. Received: cell={key!r}")
    return BY_KEY[key]


def of(key) -> Cell:
    """The cell a stored run names; the default cell's entry when it names none (an older or
    hand-written config), as `ModelConfig` defaults it."""
    return BY_KEY.get(key if isinstance(key, str) else DEFAULT) or BY_KEY[DEFAULT]


def saved_in(model_file: str) -> str | None:
    """The cell whose trained models alone are saved as `model_file`; None when several cells
    share that file (Keras' model.keras) or none uses it."""
    keys = [cell.key for cell in TABLE if cell.model_file == model_file]
    return keys[0] if len(keys) == 1 else None


def layers(model_cfg) -> int:
    """Recurrent layers of a ModelConfig's network: n_layers, or 1 for a cell that does not stack."""
    return model_cfg.n_layers if get(model_cfg.cell).stacked else 1


def applies(key, section: str, name: str) -> bool:
    """Whether the setting `section.name` of a run config applies to the cell `key` (data
    settings always do)."""
    cell = of(key)
    if section == "model":
        return name in COMMON_SETTINGS or name in cell.settings
    if section == "train":
        return name in cell.train_settings
    return True


def tensor_words() -> dict[str, str]:
    """Weight tensor name -> its words, over the cells with gradient views."""
    return {name: words for cell in TABLE if cell.has_gradients for name, words in cell.tensors}


def keras_classes() -> dict[str, str]:
    """Cell key -> keras.layers class name, for the cells that are Keras layers."""
    return {cell.key: cell.keras_class for cell in TABLE if cell.keras_class}


def own_loop_note(model_cfg) -> str | None:
    """Which of a ModelConfig's layers leave rnnlab's fast loops for Keras' own (slower) loop,
    in plain words; None when none does (or its cell has no fast loop). Keras runs its own
    loop for a layer with recurrent dropout, and for the backward half of a bidirectional one."""
    cell = get(model_cfg.cell)
    if not cell.fast_loop:
        return None
    dropped = [i for i, rate in enumerate(model_cfg.recurrent_dropout_per_layer, 1) if rate > 0]
    words = []
    if dropped:
        which = ("the layer" if model_cfg.n_layers == 1 else
                 "every layer" if len(dropped) == model_cfg.n_layers else
                 f"layer {dropped[0]}" if len(dropped) == 1 else
                 f"layers {', '.join(map(str, dropped))}")
        words.append(f"Recurrent dropout makes {which} run Keras' own {cell.label} loop, "
                     "slower than rnnlab's.")
    if model_cfg.bidirectional and len(dropped) < model_cfg.n_layers:
        words.append(f"The backward half of each bidirectional layer runs Keras' own "
                     f"{cell.label} loop, slower than rnnlab's.")
    return " ".join(words) or None

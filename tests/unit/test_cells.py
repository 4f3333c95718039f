"""The cell table (rnnlab.cells) is complete, and every module reads it instead of naming cells."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab import cells, codegen, config, model_info, validate
from rnnlab.config import ModelConfig, RunConfig, TrainConfig
from rnnlab.errors import ConfigError
from rnnlab.figures.gradients import WEIGHT_WORDS
from rnnlab.nn import kernels

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = {"keras_class": "a cell that is not a Keras layer (fitted by numpy)",
            "fading_fix": "a cell the coach has no better cell for"}


@pytest.mark.parametrize("cell", cells.TABLE, ids=lambda c: c.key)
def test_every_cell_has_every_field_filled(cell):
    for f in dataclasses.fields(cells.Cell):
        value = getattr(cell, f.name)
        if f.name in OPTIONAL and value is None:
            continue
        assert value is not None and value != "" and value != (), f"{cell.key}.{f.name}"
    assert (cell.keras_class is None) == cell.fitted, "Keras layers are trained by gradients"
    assert cell.gates >= (0 if cell.keras_class is None else 1) and cell.bias_vectors >= 1
    assert all(isinstance(name, str) and words for name, words in cell.tensors)
    assert cell.fading_fix is None or (cell.fading_fix in cells.BY_KEY
                                       and cell.fading_fix != cell.key)
    assert not (cell.fast_loop and cell.keras_class is None)


def test_the_settings_named_are_config_fields():
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    for cell in cells.TABLE:
        assert set(cell.settings) <= model_fields, cell.key
        assert set(cell.train_settings) <= train_fields, cell.key
    assert set(cells.COMMON_SETTINGS) <= model_fields
    # every model field applies to some cell
    used = set(cells.COMMON_SETTINGS).union(*(c.settings for c in cells.TABLE))
    assert used == model_fields


def test_config_choices_and_labels_are_the_tables():
    assert config.CELLS == cells.KEYS == tuple(c.key for c in cells.TABLE)
    assert config.CELL_LABELS == {c.key: c.label for c in cells.TABLE}
    assert ModelConfig().cell == cells.DEFAULT
    assert model_info.CELL_CLASSES == {c.key: c.keras_class for c in cells.TABLE if c.keras_class}


def test_an_unknown_cell_is_refused_by_name():
    with pytest.raises(ConfigError, match="cell must be one of simple_rnn, gru, lstm, esn"):
        cells.get("transformer")
    assert cells.of("transformer") is cells.of(None) is cells.of(["esn"]) is cells.get("lstm")
    assert cells.of("esn").fitted


def test_fast_loops_cover_the_tables_fast_cells():
    assert set(kernels.COVERED) == {c.key for c in cells.TABLE if c.fast_loop}


def test_weight_words_come_from_the_table():
    assert WEIGHT_WORDS == {"kernel": "input weights", "recurrent_kernel": "recurrent weights",
                            "bias": "bias"}


def test_model_files_name_one_numpy_cell():
    assert cells.saved_in("model.npz") == "esn"
    assert cells.saved_in("model.keras") is None           # shared by every Keras cell
    assert cells.saved_in("nothing.bin") is None


def test_which_settings_apply():
    assert cells.applies("lstm", "model", "recurrent_dropout")
    assert not cells.applies("esn", "model", "recurrent_dropout")
    assert cells.applies("esn", "model", "leak_rate") and cells.applies("esn", "model", "lookback")
    assert not cells.applies("gru", "model", "ridge")
    assert cells.applies("esn", "train", "seed") and not cells.applies("esn", "train", "epochs")
    assert cells.applies("esn", "data", "scaling")
    assert cells.layers(ModelConfig(cell="esn", n_layers=3)) == 1
    assert cells.layers(ModelConfig(cell="gru", n_layers=3)) == 3


def test_every_keras_class_exists_in_keras_layers():
    names = [c.keras_class for c in cells.TABLE if c.keras_class]
    code = ("from rnnlab import backend; backend.use(); import keras; "
            f"missing = [n for n in {names!r} if not hasattr(keras.layers, n)]; "
            "print(missing); raise SystemExit(1 if missing else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]


@pytest.mark.parametrize("key", cells.KEYS)
def test_codegen_exports_a_script_for_every_cell(key):
    cell = cells.get(key)
    script = codegen.export(RunConfig(model=ModelConfig(cell=key)))
    compile(script, f"{key}.py", "exec")
    if cell.keras_class:
        assert f"CELL = {cell.keras_class!r}" in script
        assert f'"{cell.keras_class}": keras.layers.{cell.keras_class}' in script
        assert "import keras" in script
    else:
        assert "import keras" not in script and "class EchoStateNetwork" in script


def test_the_exported_script_names_the_keras_cells_as_before():
    script = codegen.export(RunConfig())
    assert ('CELLS = {"SimpleRNN": keras.layers.SimpleRNN, "GRU": keras.layers.GRU, '
            '"LSTM": keras.layers.LSTM}') in script
    assert "# 'SimpleRNN', 'GRU' or 'LSTM'" in script


# -- leaving the fast loops ------------------------------------------------------------------
def run(**model) -> RunConfig:
    return RunConfig(model=ModelConfig(**model))


def test_no_note_when_every_layer_keeps_the_fast_loops():
    assert validate.loop_note(run(cell="lstm"), fast_loops=True) is None
    assert validate.loop_note(run(cell="lstm", dropout=0.3), fast_loops=True) is None


def test_recurrent_dropout_is_noted_for_the_layers_it_slows():
    note = validate.loop_note(run(cell="lstm", n_layers=2, recurrent_dropout=0.2), True)
    assert note == ("Recurrent dropout makes every layer run Keras' own LSTM loop, slower than "
                    "rnnlab's.")
    note = validate.loop_note(run(cell="gru", n_layers=3, recurrent_dropout=[0, 0.1, 0.2]), True)
    assert note == "Recurrent dropout makes layers 2, 3 run Keras' own GRU loop, slower than rnnlab's."
    note = validate.loop_note(run(cell="gru", n_layers=1, recurrent_dropout=0.1), True)
    assert note.startswith("Recurrent dropout makes the layer run Keras' own GRU loop")


def test_the_backward_half_of_a_bidirectional_layer_is_noted():
    note = validate.loop_note(run(cell="lstm", bidirectional=True), True)
    assert note == ("The backward half of each bidirectional layer runs Keras' own LSTM loop, "
                    "slower than rnnlab's.")
    both = validate.loop_note(run(cell="lstm", n_layers=2, bidirectional=True,
                                  recurrent_dropout=[0.1, 0]), True)
    assert both.startswith("Recurrent dropout makes layer 1 run") and "backward half" in both
    # every layer already on Keras' loop: the backward half adds nothing to say
    assert "backward" not in validate.loop_note(
        run(cell="lstm", bidirectional=True, recurrent_dropout=0.1), True)


def test_no_note_without_fast_loops_or_for_cells_without_them():
    assert validate.loop_note(run(cell="lstm", recurrent_dropout=0.2), fast_loops=False) is None
    assert validate.loop_note(run(cell="simple_rnn", recurrent_dropout=0.2,
                                  bidirectional=True), True) is None
    assert validate.loop_note(run(cell="esn"), True) is None


def test_fast_loops_are_expected_on_jax_unless_turned_off(monkeypatch):
    monkeypatch.setenv("RNNLAB_BACKEND", "jax")
    monkeypatch.setenv("RNNLAB_FAST_KERNELS", "1")
    assert validate.fast_loops_expected()
    monkeypatch.setenv("RNNLAB_FAST_KERNELS", "0")
    assert not validate.fast_loops_expected()
    monkeypatch.setenv("RNNLAB_FAST_KERNELS", "1")
    monkeypatch.setenv("RNNLAB_BACKEND", "tensorflow")
    assert not validate.fast_loops_expected()
    monkeypatch.setenv("RNNLAB_BACKEND", "no-such-backend")
    assert not validate.fast_loops_expected()


# -- no module names a cell in a comparison ----------------------------------------------------
def _literals(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {e.value for e in node.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def test_no_module_outside_the_table_compares_a_cell_to_a_name():
    """`cell == "esn"`, `cell in ("lstm", "gru")`: ask rnnlab.cells instead (lessons' JSON
    files keep cell names as data)."""
    found = []
    sources = [*(ROOT / "rnnlab").rglob("*.py"), *(ROOT / "views").rglob("*.py"), ROOT / "app.py"]
    for path in sources:
        if path == ROOT / "rnnlab" / "cells.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Compare):
                named = set().union(*map(_literals, [node.left, *node.comparators]))
                if named & set(cells.KEYS):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(named)}")
    assert not found, found


def test_a_new_keras_cell_is_one_table_entry():
    """A cell added to the table alone is a config choice with a label, a layer table, a
    script, a diagram and gradient names (in a fresh interpreter: the table is read on import)."""
    code = """
import dataclasses
from rnnlab import cells
extra = dataclasses.replace(cells.BY_KEY["simple_rnn"], key="elman", label="Elman RNN",
                            short="Elman", diagram_label="Elman RNN")
cells.TABLE = (*cells.TABLE, extra)
cells.BY_KEY = {c.key: c for c in cells.TABLE}
cells.KEYS = tuple(cells.BY_KEY)
from rnnlab import codegen, config, figures, model_info, validate
from rnnlab.figures.gradients import tensor_label
cfg = config.RunConfig(model=config.ModelConfig(cell="elman", n_layers=2, units=8))
assert config.CELLS[-1] == "elman" and config.CELL_LABELS["elman"] == "Elman RNN"
rows = model_info.layer_table(cfg.model, 1)
assert [r["layer"] for r in rows[:2]] == ["elman_1", "elman_2"] and rows[0]["kind"] == "SimpleRNN"
assert rows[0]["params"] == 8 * (1 + 8 + 1)
assert "CELL = 'SimpleRNN'" in codegen.export(cfg)
assert tensor_label("elman_2/recurrent_kernel") == "layer 2 · recurrent weights"
assert "Elman RNN unrolled" in figures.unrolled_diagram("elman", 2, 5, 1).layout.title.text
assert validate.batch_note(cfg, 4) is not None and validate.loop_note(cfg, True) is None
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-2000:]

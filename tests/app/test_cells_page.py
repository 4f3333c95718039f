"""The Model page offers the cell table's cells and says when a layer leaves the fast loops."""

from __future__ import annotations

from apphelpers import open_page
from rnnlab import cells

SLOWER = "run Keras' own LSTM loop, slower than rnnlab's"
BACKWARD = "The backward half of each bidirectional layer runs Keras' own LSTM loop"


def captions(at) -> str:
    return " ".join(c.value for c in at.caption).replace("\\", "")


def test_the_model_page_offers_exactly_the_tables_cells(home):
    at = open_page("views/model.py")
    box = at.selectbox(key="model_cell")
    assert list(box.options) == [c.label for c in cells.TABLE]
    for cell in cells.TABLE:
        box.set_value(cell.key).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.session_state["run_config"]["model"]["cell"] == cell.key
        shown = {w.key for w in [*at.number_input, *at.slider, *at.toggle]}
        assert ("model_layers" in shown) == ("n_layers" in cell.settings)
        assert ("model_reservoir" in shown) == ("reservoir_size" in cell.settings)
        box = at.selectbox(key="model_cell")


def test_recurrent_dropout_and_bidirectional_layers_say_they_leave_the_fast_loops(home,
                                                                                 monkeypatch):
    monkeypatch.setenv("RNNLAB_BACKEND", "jax")
    monkeypatch.setenv("RNNLAB_FAST_KERNELS", "1")
    at = open_page("views/model.py")
    at.selectbox(key="model_cell").set_value("lstm").run()
    assert SLOWER not in captions(at) and BACKWARD not in captions(at)
    at.slider(key="model_recurrent_dropout").set_value(0.2).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Recurrent dropout makes " in captions(at) and SLOWER in captions(at)
    at.slider(key="model_recurrent_dropout").set_value(0.0).run()
    at.toggle(key="model_bidirectional").set_value(True).run()
    assert BACKWARD in captions(at) and "Recurrent dropout makes" not in captions(at)
    at.selectbox(key="model_cell").set_value("simple_rnn").run()     # no fast loop to leave
    assert "Keras' own" not in captions(at)


def test_no_fast_loop_caption_when_the_fast_loops_are_off(home, monkeypatch):
    monkeypatch.setenv("RNNLAB_FAST_KERNELS", "0")
    at = open_page("views/model.py")
    at.selectbox(key="model_cell").set_value("lstm").run()
    at.slider(key="model_recurrent_dropout").set_value(0.2).run()
    assert "Keras' own" not in captions(at)

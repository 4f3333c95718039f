"""The working setup survives a reload: the link carries ?setup=ID, saved in the run store."""

from __future__ import annotations

import json

from apphelpers import open_page
from rnnlab import ui


def assert_clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_a_reload_opens_the_setup_the_user_was_working_on(home):
    at = open_page("views/model.py")
    at.number_input(key="model_units").set_value(17).run()
    at.selectbox(key="model_cell").set_value("gru").run()
    assert_clean(at)
    setup_id = at.query_params[ui.SETUP_PARAM]
    setup_id = setup_id[0] if isinstance(setup_id, list) else setup_id
    saved = json.loads((home / "setups" / f"{setup_id}.json").read_text())
    assert (saved["model"]["units"], saved["model"]["cell"]) == (17, "gru")

    again = open_page("views/model.py", {ui.SETUP_PARAM: setup_id})     # a new session
    assert_clean(again)
    assert again.number_input(key="model_units").value == 17
    assert again.selectbox(key="model_cell").value == "gru"
    assert again.session_state["run_config"] == at.session_state["run_config"]


def test_the_setup_wins_over_the_preset_it_started_from(home):
    at = open_page("views/model.py", {"preset": "seed-tutorial"})
    at.number_input(key="train_epochs").set_value(7).run()
    setup_id = at.query_params[ui.SETUP_PARAM]
    setup_id = setup_id[0] if isinstance(setup_id, list) else setup_id
    again = open_page("views/model.py", {"preset": "seed-tutorial", ui.SETUP_PARAM: setup_id})
    assert_clean(again)
    assert again.session_state["run_config"]["train"]["epochs"] == 7
    assert again.session_state["run_config"]["model"]["units"] == 50      # the preset's own


def test_a_setup_that_is_not_there_says_so_and_starts_from_the_sample(home):
    for bad in ("0123456789abcdef", "../../etc/passwd"):
        at = open_page("views/data.py", {ui.SETUP_PARAM: bad})
        assert_clean(at)
        assert any("not on this server any more" in w.value for w in at.warning)
        assert at.session_state["run_config"]["data"]["source"] == "noisy_sine.csv"

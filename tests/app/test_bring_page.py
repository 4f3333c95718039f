"""The Bring a model page: refusals in plain words, a good model described, a run started.

The good model is an echo state network's zip (numpy only), so its evaluation runs in this
process without Keras, through the app's own in-process runner.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from apphelpers import APP
from rnnlab import comeback, jobs
from rnnlab.store import RunStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_comeback_unit import esn_bundle, make  # noqa: E402


def bring_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/bring.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.file_uploader(key="bring_model").set_value((name, raw, "application/zip")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_the_page_is_in_the_navigation_and_asks_for_a_model(home):
    at = bring_page()
    assert at.title[0].value == "Bring a model"
    assert any("Upload a model to continue" in i.value for i in at.info)


def test_a_renamed_text_file_and_a_pickle_are_refused_in_plain_words(home, tmp_path):
    at = upload(bring_page(), "model.zip", b"Month,Passengers\n1949-01,112\n")
    [message] = errors(at)
    assert "model.zip" in message and "not a model downloaded from RNN Lab" in message
    assert "it is a text file" in message and "Results → Downloads" in message
    assert "Traceback" not in message
    at = upload(at, "model.pkl", pickle.dumps({"weights": [1, 2, 3]}))
    [message] = errors(at)
    assert "Python pickle file, which RNN Lab never opens" in message
    assert not at.radio  # nothing further is offered


def test_a_good_model_is_described_and_a_stand_in_keras_model_offers_both_actions(home,
                                                                                 tmp_path):
    at = upload(bring_page(), "r1-model.zip", make(tmp_path))
    assert not errors(at)
    assert any("is a model from RNN Lab" in s.value for s in at.success)
    text = " ".join(m.value for m in at.markdown)
    assert "airline model" in text and "Passengers" in text and "last 7 rows" in text
    assert at.radio(key="bring_source").value == "trained_on"
    at.radio(key="bring_action").set_value("continue").run()
    assert at.button(key="bring_go").label == "Start training"
    assert at.number_input(key="bring_epochs").value == 10


def test_an_evaluation_is_queued_scored_and_linked(home, tmp_path, store):
    blob = esn_bundle(tmp_path)
    at = upload(bring_page(), "esn-model.zip", blob)
    assert any("Echo state network" in m.value for m in at.markdown)
    at.radio(key="bring_action").set_value("continue").run()
    assert any("fitted in one pass" in w.value for w in at.warning)
    at.radio(key="bring_action").set_value("evaluate").run()
    at.button(key="bring_go").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert any("is queued" in s.value for s in at.success)
    [run] = store.list_runs()
    assert run.config["from_model"] == {"bundle": comeback.inspect_upload("x", blob).sha256,
                                        "action": "evaluate"}
    links = [link for link in at.get("page_link")]
    assert any(run.id in str(link.proto) for link in links)
    assert jobs.get_runner(store).wait_idle(timeout=120)
    run = store.get_run(run.id)
    assert run.status == RunStatus.DONE, run.error
    assert {"model", "naive", "linear_ar"} <= set(run.summary["metrics"]["test"])
    results = AppTest.from_file(APP, default_timeout=60)
    results.query_params["run"] = run.id
    results.run()
    results.switch_page("views/results.py")
    results.run()
    assert not results.exception, [e.value for e in results.exception]
    assert any("evaluates a model uploaded" in i.value for i in results.info)

"""The coach: each rule fires on a run built to show it, and none fires on a healthy run."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from rnnlab import coach
from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError
from rnnlab.store import RunStatus, Store
from rnnlab.artefacts import FREE_RUN, ONE_STEP, PREDICTION_COLUMNS
from rnnlab.artefacts import write_predictions as _write_csv
from statuses import set_status

N_TEST, EPOCHS, LOOKBACK = 120, 40, 30


def config(**changes) -> dict:
    """A valid run config as the store keeps it."""
    base = RunConfig().replace(model={"cell": "lstm", "lookback": LOOKBACK},
                               train={"epochs": EPOCHS})
    return base.replace(**changes).to_dict() if changes else base.to_dict()


def sine(n: int = N_TEST, seed: int = 0) -> np.ndarray:
    """A noisy sine around 10 (between about 6 and 14)."""
    t = np.arange(n)
    return 10 + 3 * np.sin(2 * np.pi * t / 20) + np.random.default_rng(seed).normal(0, 0.2, n)


def tracking(actual: np.ndarray, seed: int = 1) -> np.ndarray:
    """A good model: the actual values with a little noise."""
    return actual + np.random.default_rng(seed).normal(0, 0.15, len(actual))


def predictions(actual: np.ndarray, model: np.ndarray, train: np.ndarray | None = None) -> pd.DataFrame:
    """predictions.csv rows in the documented columns: test one-step, free-running, maybe train."""
    times = pd.date_range("2024-01-01", periods=len(actual), freq="D")
    naive = np.r_[actual[0], actual[:-1]]
    one = pd.DataFrame({"split": "test", "kind": ONE_STEP, "timestamp": times, "step": 1,
                        "actual": actual, "model": model, "naive": naive, "mean": 10.0,
                        "origin": times - pd.Timedelta(days=1)})
    free = one.assign(kind=FREE_RUN, step=np.arange(1, len(actual) + 1), model=10.0)
    frames = [one, free]
    if train is not None:
        frames.append(pd.DataFrame({"split": "train", "kind": ONE_STEP, "step": 1,
                                    "actual": train, "model": train}))
    frame = pd.concat(frames, ignore_index=True)
    return frame.reindex(columns=PREDICTION_COLUMNS)


def summary(pred: pd.DataFrame, train_range=(5.5, 14.5), **extra) -> dict:
    """The summary a worker writes, with metrics computed from the test rows."""
    rows = pred[(pred["split"] == "test") & (pred["kind"] == ONE_STEP)]
    rmse = {k: float(np.sqrt(np.mean((rows[k] - rows["actual"]) ** 2))) for k in ("model", "naive")}
    out = {"metrics": {"test": {k: {"rmse": v} for k, v in rmse.items()}},
           "skill_vs_naive": 1 - rmse["model"] / rmse["naive"]}
    if train_range is not None:
        out["train_range"] = {"min": train_range[0], "max": train_range[1]}
    return {**out, **extra}


def curves(val=None, train=None, grad_max=None) -> dict:
    """Epoch columns: losses falling then flat, a steady gradient norm."""
    t = np.arange(1, EPOCHS + 1)
    noise = np.random.default_rng(2).normal(0, 0.0005, EPOCHS)
    train = 0.05 + np.exp(-t / 4) + noise if train is None else np.asarray(train, dtype=float)
    val = 0.06 + np.exp(-t / 4) - noise if val is None else val
    means = 1.0 + 0.1 * np.sin(t)
    return {"epoch": t.tolist(), "train_loss": list(train), "val_loss": list(val),
            "grad_norm_mean": means.tolist(),
            "grad_norm_max": (3 * means if grad_max is None else grad_max).tolist()}


def healthy_through_time(lookback: int = LOOKBACK) -> dict:
    """The input gradient at the last epoch, fading gently with each step back (index 0 newest)."""
    return {"input": {EPOCHS: [0.9 ** k for k in range(lookback)]},
            "layer_1": {EPOCHS: [0.8 ** k for k in range(lookback)]}}


def good_run(**over) -> dict:
    """diagnose() arguments of a healthy run; `over` replaces some of them."""
    pred = predictions(sine(), tracking(sine()))
    args = {"config": config(), "summary": summary(pred), "curves": curves(),
            "predictions": pred, "through_time": healthy_through_time(), "status": "done"}
    return {**args, **over}


def codes(**over) -> list[str]:
    return [d.code for d in coach.diagnose(**good_run(**over))]


def only(code: str, **over) -> coach.Diagnosis:
    """The diagnosis `code`, asserting it is the only one."""
    found = coach.diagnose(**good_run(**over))
    assert [d.code for d in found] == [code]
    return found[0]


# -- the healthy run ----------------------------------------------------------------------------

def test_a_healthy_run_gets_no_diagnosis():
    assert coach.diagnose(**good_run()) == []


def test_nothing_known_yet_means_nothing_said():
    assert coach.diagnose(config={}, summary=None, curves=None, predictions=None,
                          through_time=None, status="queued") == []
    assert coach.diagnose(**good_run(status="running", predictions=None, summary={})) == []


# -- 1. outside the training range ---------------------------------------------------------------

def trending():
    actual = 10 + 0.1 * np.arange(N_TEST)  # 10 .. 21.9, training max 14.5
    return predictions(actual, tracking(actual))


def test_test_values_above_the_training_range():
    pred = trending()
    d = only("outside_range", predictions=pred, summary=summary(pred))
    assert d.evidence.startswith("62 % of the test values are above the highest training value "
                                 "(21.9 vs 14.5).")
    assert d.try_this == {"data": {"transform": "difference"}}
    assert d.settings == "transform=difference"


@pytest.mark.parametrize("transform", ["difference", "relative"])
def test_outside_range_is_silent_when_the_network_already_learns_changes(transform):
    pred = trending()
    assert codes(predictions=pred, summary=summary(pred),
                 config=config(data={"transform": transform})) == []


def test_outside_range_uses_training_rows_when_the_summary_has_no_range():
    actual = 10 + 0.1 * np.arange(N_TEST)
    pred = predictions(actual, tracking(actual), train=sine(200, seed=3))
    assert codes(predictions=pred, summary=summary(pred, train_range=None)) == ["outside_range"]
    older = trending()  # no train_range and no training rows: nothing to compare with
    assert codes(predictions=older, summary=summary(older, train_range=None)) == []


def test_a_seasonal_series_gets_a_seasonal_difference_with_its_season():
    pred = trending()
    summ = summary(pred)
    summ["metrics"]["test"]["seasonal_naive"] = {"rmse": 0.5 * summ["metrics"]["test"]["naive"]["rmse"]}
    d = only("outside_range", predictions=pred, summary=summ, config=config(data={"season": 12}))
    assert d.try_this == {"data": {"transform": "seasonal_difference", "season": 12}}
    new = coach.apply(config(data={"season": 12}), d)
    assert (new.data.transform, new.data.season) == ("seasonal_difference", 12)


# -- 2. flat line --------------------------------------------------------------------------------

def test_a_flat_forecast_on_a_steady_series_asks_for_more_epochs():
    actual = sine()
    flat = 10 + np.random.default_rng(4).normal(0, 0.05, N_TEST)
    pred = predictions(actual, flat)
    d = only("flat", predictions=pred, summary=summary(pred))
    assert d.try_this == {"train": {"epochs": 80, "early_stopping_patience": 16}}
    assert "forecasts vary by 0.0" in d.evidence and "(standard deviation): 2 % as much" in d.evidence


def test_a_flat_forecast_on_a_trend_asks_for_changes():
    actual = 10 + 0.1 * np.arange(N_TEST)
    pred = predictions(actual, np.full(N_TEST, 14.4))
    found = {d.code: d for d in coach.diagnose(**good_run(predictions=pred, summary=summary(pred)))}
    assert set(found) == {"outside_range", "flat"}
    assert found["flat"].try_this == {"data": {"transform": "difference"}}


def test_a_forecast_with_some_movement_is_not_flat():
    actual = sine()
    damped = 10 + 0.2 * (actual - 10)  # a fifth of the movement: poor, but not a flat line
    pred = predictions(actual, damped)
    assert "flat" not in codes(predictions=pred, summary=summary(pred))


# -- 3. copy cat ---------------------------------------------------------------------------------

def copying(seed: int = 5):
    actual = sine()
    late = np.r_[actual[0], actual[:-1]] + np.random.default_rng(seed).normal(0, 0.05, N_TEST)
    return predictions(actual, late)


def test_a_model_that_repeats_the_last_value_is_caught():
    pred = copying()
    d = only("copy_cat", predictions=pred, summary=summary(pred))
    assert d.try_this == {"data": {"transform": "relative"}}
    assert coach.apply(config(), d).data.transform == "relative"
    assert "one step earlier (correlation 1.00, against 0.7" in d.evidence
    skill = summary(pred)["skill_vs_naive"]
    assert skill <= 0 and f"{1 - skill:.2f} times that of repeating the last value" in d.evidence


def test_copy_cat_computes_the_skill_when_the_summary_has_none():
    pred = copying()
    assert codes(predictions=pred, summary={}) == ["copy_cat"]


def test_copy_cat_is_silent_when_the_model_beats_the_last_value():
    pred = copying()
    assert codes(predictions=pred, summary={**summary(pred), "skill_vs_naive": 0.1}) == []


@pytest.mark.parametrize("transform", ["difference", "relative"])
def test_copy_cat_on_changes_has_no_one_click_fix(transform):
    pred = copying()
    d = only("copy_cat", predictions=pred, summary=summary(pred),
             config=config(data={"transform": transform}))
    assert d.try_this == {} and d.try_label == "" and d.settings == ""


# -- 4. still improving --------------------------------------------------------------------------

def falling():
    t = np.arange(1, EPOCHS + 1)
    return curves(val=0.5 / t, train=0.4 / t)


def test_a_loss_still_falling_at_the_end_asks_for_more_epochs():
    d = only("still_improving", curves=falling())
    assert d.try_this == {"train": {"epochs": 80, "early_stopping_patience": 16}}
    assert d.try_label == "Train for 80 epochs with early stopping"
    assert "validation loss fell 18 % over the last 8 of 40 epochs" in d.evidence
    assert "lowest at epoch 40" in d.evidence


def test_still_improving_reads_the_training_loss_without_validation():
    t = np.arange(1, EPOCHS + 1)
    d = only("still_improving", curves=curves(val=[None] * EPOCHS, train=0.4 / t))
    assert "training loss fell" in d.evidence


def test_still_improving_is_silent_while_training_and_keeps_a_set_patience():
    assert codes(curves=falling(), status="running") == []
    d = only("still_improving", curves=falling(), config=config(train={"early_stopping_patience": 7}))
    assert d.try_this == {"train": {"epochs": 80}}


# -- 5. overfitting ------------------------------------------------------------------------------

def overfit():
    t = np.arange(1, EPOCHS + 1)
    return curves(val=0.1 + 0.001 * (t - 15) ** 2, train=0.5 / t)


def test_validation_rising_while_training_falls_is_overfitting():
    d = only("overfitting", curves=overfit())
    assert d.try_this == {"model": {"dropout": 0.2}, "train": {"early_stopping_patience": 8}}
    assert d.try_label == "Add dropout 0.2 and early stopping"
    assert "risen for 25 epochs since its best at epoch 15" in d.evidence


def test_overfitting_is_silent_when_dropout_and_early_stopping_are_on():
    cfg = config(model={"dropout": 0.2}, train={"early_stopping_patience": 10})
    assert codes(curves=overfit(), config=cfg) == []
    d = only("overfitting", curves=overfit(), config=config(model={"dropout": [0.3, 0.1]}))
    assert d.try_this == {"train": {"early_stopping_patience": 8}}


def test_a_short_bump_in_the_validation_loss_is_not_overfitting():
    t = np.arange(1, EPOCHS + 1)
    bump = np.where(t <= 36, 0.5 / t, 0.5 / 36 * 1.5)  # 4 worse epochs at the end: noise, not a trend
    assert "overfitting" not in codes(curves=curves(val=bump, train=0.4 / t))



def test_both_losses_rising_is_not_overfitting():
    t = np.arange(1, EPOCHS + 1)
    worse = 0.1 + 0.001 * (t - 15) ** 2
    assert "overfitting" not in codes(curves=curves(val=worse, train=0.9 * worse))

def test_overfitting_shows_live():
    assert codes(curves=overfit(), status="running", predictions=None, summary={}) == ["overfitting"]


# -- 6. exploding --------------------------------------------------------------------------------

def test_a_diverged_run_asks_for_clipping_and_a_lower_rate():
    blown = curves()
    blown["train_loss"][-1] = None  # the store keeps a NaN loss as missing
    d = only("exploding", curves=blown, status="diverged", predictions=None, summary={})
    assert d.try_this == {"train": {"learning_rate": 0.0001, "clipnorm": 1.0}}
    assert d.try_label == "Clip gradients at 1 and use a learning rate of 0.0001"
    assert "too large to compute at epoch 40" in d.evidence


def test_a_gradient_spike_is_exploding():
    spiky = 3 * (1.0 + 0.1 * np.sin(np.arange(1, EPOCHS + 1)))
    spiky[19] = 500.0
    d = only("exploding", curves=curves(grad_max=spiky))
    assert d.evidence.startswith("At epoch 20 one step's gradient was")
    clipped = only("exploding", curves=curves(grad_max=spiky), config=config(train={"clipnorm": 0.5}))
    assert clipped.try_this == {"train": {"learning_rate": 0.0001}}


def test_gradients_that_shrink_as_training_goes_on_are_no_spike():
    t = np.arange(1, EPOCHS + 1)
    shrinking = curves()
    shrinking["grad_norm_mean"] = (50.0 * 0.8 ** t).tolist()
    shrinking["grad_norm_max"] = (150.0 * 0.8 ** t).tolist()
    assert coach.diagnose(**good_run(curves=shrinking)) == []


# -- 7. vanishing --------------------------------------------------------------------------------

def fading(newest_first: bool = True) -> dict:
    values = [10.0 ** (-k / 2) for k in range(LOOKBACK)]  # a thousandth by 6 steps back
    return {"input": {EPOCHS: values if newest_first else values[::-1]}}


def test_a_gradient_dying_out_in_a_simple_rnn_asks_for_lstm():
    d = only("vanishing", through_time=fading(), config=config(model={"cell": "simple_rnn"}))
    assert d.try_this == {"model": {"cell": "lstm"}}
    assert "more than 7 steps back" in d.evidence and "23 of the 30 steps" in d.evidence


def test_vanishing_in_an_lstm_asks_for_a_shorter_lookback():
    d = only("vanishing", through_time=fading())
    assert d.try_this == {"model": {"lookback": 7}}
    assert coach.apply(config(), d).model.lookback == 7


def test_vanishing_reads_index_0_as_the_newest_step():
    assert codes(through_time=fading(newest_first=False)) == []


# -- apply and diagnose_run ----------------------------------------------------------------------

# -- 8. a straight line wins ----------------------------------------------------------------------

def with_linear(ratio: float, **config_changes) -> dict:
    """good_run arguments whose summary gives the linear autoregression `ratio` × the model's RMSE."""
    pred = predictions(sine(), tracking(sine()))
    summ = summary(pred)
    summ["metrics"]["test"]["linear_ar"] = {"rmse": ratio * summ["metrics"]["test"]["model"]["rmse"]}
    return {"predictions": pred, "summary": summ, "config": config(**config_changes)}


def test_a_linear_autoregression_that_beats_the_network_asks_for_a_linear_path():
    d = only("linear_wins", **with_linear(0.8))
    assert d.try_this == {"model": {"linear_skip": True}}
    assert "20 % below the network's" in d.evidence
    assert coach.apply(config(), d).model.linear_skip is True


@pytest.mark.parametrize("ratio,changes", [
    (0.97, {}),                                   # within the margin: no real difference
    (1.2, {}),                                    # the network wins
    (0.8, {"model": {"linear_skip": True}}),      # it already has the linear path
    (0.8, {"model": {"cell": "esn"}}),            # an ESN's readout is linear already
])
def test_linear_wins_is_silent_otherwise(ratio, changes):
    assert "linear_wins" not in codes(**with_linear(ratio, **changes))


# -- 9. exponential smoothing wins ---------------------------------------------------------------

def with_classical(ratio: float, form: str | None = "ETS(M,A,M), season 12", linear: float | None = None,
                   **config_changes) -> dict:
    """good_run arguments whose summary gives the classical anchor `ratio` × the model's RMSE
    (and the linear autoregression `linear` × it, when given)."""
    pred = predictions(sine(), tracking(sine()))
    summ = summary(pred, season=12)
    test = summ["metrics"]["test"]
    test["anchor"] = {"rmse": ratio * test["model"]["rmse"]}
    if linear is not None:
        test["linear_ar"] = {"rmse": linear * test["model"]["rmse"]}
    if form is not None:
        summ["classical"] = form
    return {"predictions": pred, "summary": summ, "config": config(**config_changes)}


def test_exponential_smoothing_that_beats_the_network_is_named_with_what_to_use_instead():
    d = only("classical_wins", **with_classical(0.85, linear=1.004))
    assert "ETS(M,A,M), season 12" in d.evidence and "15 % below the network's" in d.evidence
    assert "ends on a straight line" in d.evidence            # it ties its linear autoregression
    assert "level, trend and season" in d.advice and "growing and shrinking" in d.advice
    assert "forecast.csv" in d.advice and "12, 24 and 36 steps" in d.advice
    assert d.try_this == {} and d.settings == ""              # nothing in the run to change


def test_classical_wins_reads_the_form_it_was_given():
    d = only("classical_wins", **with_classical(0.5, form="STL season 52 + ETS(A,A,N)", linear=0.7,
                                            model={"linear_skip": True}))
    assert "level and trend" in d.advice and "seasonal profile" in d.advice
    assert "growing" not in d.advice and "straight line" not in d.evidence
    d = only("classical_wins", **with_classical(0.5, form=None))
    assert "exponential smoothing" in d.evidence and "level at every step" in d.advice


@pytest.mark.parametrize("ratio", [0.97, 1.0, 1.3, float("nan")])
def test_classical_wins_is_silent_when_the_network_holds_its_own(ratio):
    assert "classical_wins" not in codes(**with_classical(ratio))


def test_classical_wins_is_silent_without_the_optional_extra():
    assert codes(**with_classical(0.5) | {"summary": summary(predictions(sine(), tracking(sine())))}) == []


def test_apply_changes_only_what_the_diagnosis_says():
    cfg = config(model={"units": 12}, name="mine")
    d = only("exploding", curves=curves(grad_max=np.full(EPOCHS, 1e4)), config=cfg)
    new = coach.apply(cfg, d)
    assert isinstance(new, RunConfig)
    assert (new.train.learning_rate, new.train.clipnorm) == (0.0001, 1.0)
    old = RunConfig.from_dict(cfg)
    assert (new.model, new.data, new.name) == (old.model, old.data, "mine")
    assert new.train.epochs == old.train.epochs
    bad = coach.Diagnosis("x", "t", "e", "a", {"data": {"transform": "seasonal_difference"}}, "b")
    with pytest.raises(ConfigError, match="needs a season"):
        coach.apply(cfg, bad)


def stored_run(store: Store, pred: pd.DataFrame | None, summ: dict, loss=None) -> str:
    """A finished run written with the store's and the worker's own writers."""
    run_id = store.create_run(config(), epochs_total=EPOCHS)
    cols = curves(**({} if loss is None else {"val": loss}))
    for k in range(EPOCHS):
        store.add_epoch(run_id, k + 1, train_loss=cols["train_loss"][k], val_loss=cols["val_loss"][k],
                        grad_norm_mean=cols["grad_norm_mean"][k], grad_norm_max=cols["grad_norm_max"][k],
                        through_time={"input": healthy_through_time()["input"][EPOCHS]})
    if pred is not None:
        _write_csv(store.artefact(run_id, "predictions.csv"), [pred])
    set_status(store, run_id, RunStatus.DONE, summary=summ)
    return run_id


def test_diagnose_run_reads_the_store(tmp_path):
    store = Store(tmp_path)
    good = predictions(sine(), tracking(sine()))
    assert coach.diagnose_run(store, stored_run(store, good, summary(good))) == []
    pred = trending()
    assert [d.code for d in coach.diagnose_run(store, stored_run(store, pred, summary(pred)))] \
        == ["outside_range"]
    t = np.arange(1, EPOCHS + 1)
    assert [d.code for d in coach.diagnose_run(store, stored_run(store, None, {}, 0.5 / t))] \
        == ["still_improving"]


def test_diagnose_run_survives_a_broken_predictions_file(tmp_path):
    store = Store(tmp_path)
    run_id = stored_run(store, None, {"train_range": "garbled", "skill_vs_naive": None})
    store.artefact(run_id, "predictions.csv").write_text("")
    assert coach.diagnose_run(store, run_id) == []
    store.artefact(run_id, "predictions.csv").write_text("split,kind\ntest,one-step-ahead\n")
    assert coach.diagnose_run(store, run_id) == []


def test_the_coach_does_not_load_tensorflow():
    code = ("import sys, rnnlab.coach; "
            "sys.exit(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules) != [])")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0

"""model.build_model and model_info: layers, names, initialisers, penalties, optimisers, counts."""

import itertools

import numpy as np
import pytest

from helpers_train import one_thread, windows
from rnnlab import model_info
from rnnlab.config import ModelConfig, TrainConfig
from rnnlab.errors import ConfigError

pytestmark = pytest.mark.slow
one_thread()


def build(n_features=2, train=None, **model):
    from rnnlab.nn.model import build_model

    base = {"cell": "lstm", "n_layers": 2, "units": 4, "lookback": 6}
    return build_model(ModelConfig(**{**base, **model}), train or TrainConfig(), n_features)


@pytest.mark.parametrize("cell,bidirectional,n_layers,skip",
                         [(*c, False) for c in itertools.product(("simple_rnn", "gru", "lstm"),
                                                                 (False, True), (1, 3))]
                         + [("gru", False, 2, True), ("lstm", True, 1, True)])
def test_pure_python_table_and_count_equal_keras(cell, bidirectional, n_layers, skip):
    from rnnlab.nn.model import describe

    cfg = ModelConfig(cell=cell, n_layers=n_layers, units=[5, 3, 4][:n_layers],
                      dropout=[0.1, 0.0, 0.2][:n_layers], bidirectional=bidirectional,
                      lookback=7, horizon=3, linear_skip=skip)
    model = build(3, **{k: getattr(cfg, k) for k in ("cell", "n_layers", "units", "dropout",
                                                        "bidirectional", "lookback", "horizon",
                                                        "linear_skip")})
    rows, total = describe(model)
    assert rows == model_info.layer_table(cfg, 3)
    assert total == model.count_params() == model_info.estimate_params(cfg, 3)


def test_layers_are_named_for_people():
    from rnnlab.nn.gradients import tensor_names

    model = build(dropout=0.2)
    assert [layer.name for layer in model.layers] == ["input", "lstm_1", "dropout_1", "lstm_2",
                                                      "dropout_2", "dense"]
    assert tensor_names(model) == [f"{layer}/{kind}" for layer in ("lstm_1", "lstm_2")
                                   for kind in ("kernel", "recurrent_kernel", "bias")
                                   ] + ["dense/kernel", "dense/bias"]
    assert model.layers[1].return_sequences and not model.layers[3].return_sequences
    assert model.output_shape == (None, 1)


def test_dropout_layer_after_and_recurrent_dropout_inside():
    model = build(n_layers=1, dropout=0.3, recurrent_dropout=0.25)
    assert model.get_layer("dropout_1").rate == 0.3
    assert model.get_layer("lstm_1").recurrent_dropout == 0.25
    assert "dropout_1" not in [layer.name for layer in build(n_layers=1).layers]


def test_initialisers_take_the_scale():
    rnn = build(cell="simple_rnn", n_layers=1, units=6, recurrent_initializer="identity",
                init_scale=0.5).get_layer("simple_rnn_1")
    np.testing.assert_allclose(rnn.cell.recurrent_kernel.numpy(), 0.5 * np.eye(6))
    ortho = build(cell="simple_rnn", n_layers=1, units=6, recurrent_initializer="orthogonal",
                  init_scale=2.0).get_layer("simple_rnn_1").cell.recurrent_kernel.numpy()
    np.testing.assert_allclose(ortho.T @ ortho, 4.0 * np.eye(6), atol=1e-4)
    normal = build(cell="gru", n_layers=1, units=64, recurrent_initializer="random_normal",
                   init_scale=0.1).get_layer("gru_1").cell.recurrent_kernel.numpy()
    assert normal.std() == pytest.approx(0.1, rel=0.05)
    lstm = build(n_layers=1, units=3, kernel_initializer="identity", init_scale=2.0,
                 n_features=3).get_layer("lstm_1").cell.kernel.numpy()
    np.testing.assert_allclose(lstm, 2.0 * np.eye(3, 12))


def test_penalties_on_kernel_and_recurrent_kernel():
    model = build(n_layers=1, l1=0.01, l2=0.1)
    cell = model.get_layer("lstm_1").cell
    expected = sum(0.01 * np.abs(w.numpy()).sum() + 0.1 * (w.numpy() ** 2).sum()
                   for w in (cell.kernel, cell.recurrent_kernel))
    model(np.zeros((1, 6, 2), dtype="float32"))
    assert len(model.losses) == 2
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)
    assert build(n_layers=1).losses == []


@pytest.mark.parametrize("name,cls,loss,loss_cls", [
    ("adam", "Adam", "mse", "MeanSquaredError"),
    ("sgd", "SGD", "mae", "MeanAbsoluteError"),
    ("rmsprop", "RMSprop", "huber", "Huber"),
])
def test_optimiser_and_loss_from_names_clipping_left_to_the_step(name, cls, loss, loss_cls):
    model = build(n_layers=1, train=TrainConfig(optimizer=name, learning_rate=0.05, loss=loss,
                                                clipnorm=1.0))
    assert type(model.optimizer).__name__ == cls
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.05)
    assert model.optimizer.clipnorm is None and model._clipnorm == 1.0
    assert type(model.loss).__name__ == loss_cls


def test_esn_and_bad_sizes_are_refused_with_advice():
    with pytest.raises(ConfigError, match="echo state network is trained by rnnlab.nn.esn"):
        build(cell="esn")
    with pytest.raises(ConfigError, match="n_features must be >= 1. Received: n_features=0"):
        build(n_features=0)


def test_plain_model_shares_the_weights():
    import keras

    from rnnlab.nn.model import plain_model

    model = build()
    plain = plain_model(model)
    assert type(plain) is keras.Model or type(plain).__name__ == "Functional"
    x = np.random.default_rng(0).normal(size=(3, 6, 2)).astype("float32")
    assert all(a is b for a, b in zip(plain.weights, model.weights))
    np.testing.assert_allclose(plain.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_esn_table_without_tensorflow():
    cfg = ModelConfig(cell="esn", reservoir_size=50, horizon=2)
    assert model_info.estimate_params(cfg, 3) == (50 + 3 + 1) * 2
    assert [r["layer"] for r in model_info.layer_table(cfg, 3)] == ["reservoir", "readout"]


@pytest.mark.parametrize("horizon", [1, 3])
def test_linear_skip_starts_at_the_least_squares_forecast(horizon):
    """Untrained, the model with a linear path forecasts what the baseline's lstsq forecasts."""
    from rnnlab.evaluate import linear_ar
    from rnnlab.nn.model import start_linear_skip

    rng = np.random.default_rng(3)
    series = np.cumsum(rng.normal(size=(240, 2)), axis=0)                     # (T, 2)
    w = windows(series, lookback=9, horizon=horizon, test=30)
    model = build(2, lookback=9, horizon=horizon, linear_skip=True)
    start_linear_skip(model, w.X_train, w.y_train)
    ours = np.asarray(model.predict(w.X_test, verbose=0), dtype="float64")    # (30, H)
    theirs = linear_ar(w)(w.X_test)                                           # float64 lstsq
    assert ours.shape == theirs.shape == (30, horizon)
    assert np.allclose(ours, theirs, rtol=1e-4, atol=1e-3 * np.abs(theirs).max())
    assert np.abs(ours).max() > 1.0          # not trivially zero

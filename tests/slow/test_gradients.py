"""Gradient telemetry against the backend's autodiff, clipping, and the gradient through time."""

import numpy as np
import pytest

from helpers_train import new_run, one_thread, run_config, sine, windows
from rnnlab.config import ModelConfig, TrainConfig

pytestmark = pytest.mark.slow
one_thread()


def tiny_data(n=24, lookback=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, lookback, 2)).astype("float32")       # (n, L, F)
    y = x[:, -3:, 0].mean(axis=1, keepdims=True)                   # (n, 1)
    return x, y


def tiny_model(train=None, jit=False, **model):
    from rnnlab.nn.model import build_model

    base = {"cell": "lstm", "n_layers": 2, "units": 3, "lookback": 8}
    return build_model(ModelConfig(**{**base, **model}), train or TrainConfig(), 2,
                       jit_compile=jit)


def fit_one_step(model, x, y):
    """One epoch of one batch through the compiled training step; the meter's reading."""
    meter = model.start_meter(1)
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return meter.read()


def test_train_run_records_the_oracle_norms(store):
    """Epoch 1 of a one-batch run = `gradient_norms` (autodiff) at the seeded initial weights."""
    import keras

    from rnnlab import train
    from rnnlab.nn import gradients
    from rnnlab.nn.model import build_model

    data = windows(sine(40, noise=0.05), lookback=8)
    cfg = run_config(epochs=1, n_layers=2, units=3, lookback=8, batch_size=64, l2=0.01)
    keras.utils.set_random_seed(cfg.train.seed)
    twin = build_model(cfg.model, cfg.train, 1)
    oracle = gradients.gradient_norms(twin, data.X_train, data.y_train)
    run_id = new_run(store, cfg)
    assert train.train_run(store, run_id, cfg, data).status == "done"
    recorded = {r["tensor"]: r for r in store.tensor_norms(run_id)}
    assert list(recorded) == gradients.tensor_names(twin)
    for name, norm in oracle.items():
        assert recorded[name]["mean"] == pytest.approx(norm, rel=1e-4), name
        assert recorded[name]["max"] == pytest.approx(norm, rel=1e-4), name
    global_norm = float(np.sqrt(sum(v ** 2 for v in oracle.values())))
    assert store.step_norms(run_id)[1] == pytest.approx([global_norm], rel=1e-4)
    assert store.epochs(run_id)[0]["grad_norm_max"] == pytest.approx(global_norm, rel=1e-4)


def test_xla_step_records_the_oracle_norms_then_clips():
    """The production path for long runs: the step compiled by XLA, clipnorm on."""
    from rnnlab.nn.gradients import gradient_norms

    x, y = tiny_data()
    clip = 1e-3
    model = tiny_model(train=TrainConfig(optimizer="sgd", learning_rate=1.0, clipnorm=clip),
                       jit=True, cell="gru", n_layers=1)
    assert model.jit_compile
    before = [v.numpy().copy() for v in model.trainable_variables]
    oracle = gradient_norms(model, x, y)
    reading = fit_one_step(model, x, y)
    assert reading.steps == 1
    for (name, norm), v, w0 in zip(oracle.items(), model.trainable_variables, before):
        assert reading.tensor_norms[name][0] == pytest.approx(norm, rel=1e-4), name
        assert np.linalg.norm(v.numpy() - w0) == pytest.approx(min(norm, clip), rel=1e-3), name


def test_mean_and_max_over_several_steps():
    from rnnlab.nn.gradients import gradient_norms

    x, y = tiny_data(n=30)
    model = tiny_model(cell="simple_rnn", train=TrainConfig(optimizer="sgd", learning_rate=1e-9))
    per_batch = [gradient_norms(model, x[i:i + 10], y[i:i + 10]) for i in (0, 10, 20)]
    meter = model.start_meter(3)
    model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
    reading = meter.read()
    assert reading.steps == 3 and len(reading.step_norms) == 3
    for name in per_batch[0]:
        values = [b[name] for b in per_batch]
        assert reading.tensor_norms[name][0] == pytest.approx(np.mean(values), rel=1e-3)
        assert reading.tensor_norms[name][1] == pytest.approx(max(values), rel=1e-3)
    # the meter's result (read out after the epoch, in numpy) is the mean of the step norms
    assert float(meter.result()) == pytest.approx(np.mean(reading.step_norms), rel=1e-6)
    globals_ = [np.sqrt(sum(v ** 2 for v in b.values())) for b in per_batch]
    assert float(meter.result()) == pytest.approx(np.mean(globals_), rel=1e-3)


def test_clipnorm_caps_the_update_but_the_record_is_before_clipping():
    from rnnlab.nn.gradients import gradient_norms

    x, y = tiny_data()
    clip = 1e-3
    model = tiny_model(train=TrainConfig(optimizer="sgd", learning_rate=1.0, clipnorm=clip))
    before = [v.numpy().copy() for v in model.trainable_variables]
    oracle = gradient_norms(model, x, y)
    reading = fit_one_step(model, x, y)
    for (name, norm), v, w0 in zip(oracle.items(), model.trainable_variables, before):
        step = np.linalg.norm(v.numpy() - w0)          # SGD, lr 1: the applied gradient's norm
        assert step == pytest.approx(min(norm, clip), rel=1e-3), name
        assert reading.tensor_norms[name][0] == pytest.approx(norm, rel=1e-4), name
    assert max(oracle.values()) > 10 * clip


def test_clipvalue_caps_every_element():
    from rnnlab.nn.gradients import gradient_norms

    x, y = tiny_data()
    model = tiny_model(train=TrainConfig(optimizer="sgd", learning_rate=1.0, clipvalue=1e-4))
    before = [v.numpy().copy() for v in model.trainable_variables]
    oracle = gradient_norms(model, x, y)
    reading = fit_one_step(model, x, y)
    for v, w0 in zip(model.trainable_variables, before):
        assert np.abs(v.numpy() - w0).max() <= 1e-4 + 1e-7     # float32 rounding of w
    assert reading.global_max == pytest.approx(np.sqrt(sum(n ** 2 for n in oracle.values())),
                                               rel=1e-4)


def _grad_of(fn, value):
    """d fn(value) / d value by the backend's own autodiff, on the whole value at once."""
    from rnnlab import backend

    if backend.active() == "jax":
        import jax

        return np.asarray(jax.grad(fn)(value))
    import tensorflow as tf

    value = tf.constant(value)
    with tf.GradientTape() as tape:
        tape.watch(value)
        out = fn(value)
    return tape.gradient(out, value).numpy()


def test_through_time_is_the_autodiff_gradient_per_step_back():
    """Series = mean |dloss/dvalue| over batch and features, index 0 = the last input step.

    The oracle differentiates the rest of the network as a function of each value, one value
    at a time (the probe gets all of them from one backward pass).
    """
    from rnnlab.nn.gradients import loss_function, through_time

    x, y = tiny_data(n=5)
    model = tiny_model(n_layers=3)
    series = through_time(model, x, y)
    assert list(series) == ["input", "layer_1", "layer_2"]
    assert all(len(v) == 8 for v in series.values())
    lstm_1, lstm_2 = model.get_layer("lstm_1"), model.get_layer("lstm_2")
    loss = loss_function(model)

    def from_layer_2(h2):
        return loss(y, model.get_layer("dense")(model.get_layer("lstm_3")(h2)))

    def from_layer_1(h1):
        return from_layer_2(lstm_2(h1))

    def from_input(x_):
        return from_layer_1(lstm_1(x_))

    h1 = np.asarray(lstm_1(x))
    h2 = np.asarray(lstm_2(h1))
    for key, fn, value in (("input", from_input, x), ("layer_1", from_layer_1, h1),
                           ("layer_2", from_layer_2, h2)):
        g = np.abs(_grad_of(fn, value)).mean(axis=(0, 2))[::-1]
        np.testing.assert_allclose(series[key], g, rtol=1e-4, err_msg=key)


def test_through_time_with_a_linear_path_is_the_whole_models_gradient():
    """With linear_skip the input's series includes the linear path: the oracle is Keras' own
    call of the whole model (both paths and the sum), differentiated with respect to x."""
    from rnnlab.nn.gradients import loss_function, through_time
    from rnnlab.nn.model import start_linear_skip

    x, y = tiny_data(n=6)
    model = tiny_model(n_layers=2, linear_skip=True)
    start_linear_skip(model, x, y)
    model.get_layer("dense").set_weights([np.full((3, 1), 0.5, "float32"),
                                          np.zeros(1, "float32")])   # both paths count
    series = through_time(model, x, y)
    assert list(series) == ["input", "layer_1"]
    loss = loss_function(model)
    g = np.abs(_grad_of(lambda x_: loss(y, model(x_)), x)).mean(axis=(0, 2))[::-1]
    np.testing.assert_allclose(series["input"], g, rtol=1e-4)
    lstm_2, head = model.get_layer("lstm_2"), model.get_layer("dense")
    skip = np.asarray(model.get_layer("linear_skip")(model.get_layer("window_flat")(x)))
    h1 = np.asarray(model.get_layer("lstm_1")(x))
    g1 = np.abs(_grad_of(lambda h: loss(y, head(lstm_2(h)) + skip), h1)).mean(axis=(0, 2))[::-1]
    np.testing.assert_allclose(series["layer_1"], g1, rtol=1e-4)


def test_through_time_of_a_one_layer_model_has_only_the_input():
    from rnnlab.nn.gradients import through_time

    x, y = tiny_data(n=4)
    assert list(through_time(tiny_model(n_layers=1), x, y)) == ["input"]


def test_simple_rnn_gradient_fades_with_lag_far_more_than_lstm(store):
    """The vanishing gradient: the target is the input 40 steps back (the oldest in the window).

    Both cells start from the same contracting recurrent weights (orthogonal, gain 0.5). Through
    a SimpleRNN the gradient is a product of 40 recurrent Jacobians and fades geometrically; the
    LSTM's cell state carries it along an additive path scaled only by the forget gate. (With
    Keras' default gain-1 orthogonal init an untrained SimpleRNN is nearly norm-preserving, which
    is why that init is itself listed as a remedy.)
    """
    from rnnlab import train

    lag = 40
    u = np.random.default_rng(0).uniform(-1, 1, size=300)
    data = windows(u, lookback=lag)
    data.y_train = u[:len(data.X_train), None].astype("float32")   # the window's first input
    fade = {}
    for cell in ("simple_rnn", "lstm"):
        cfg = run_config(epochs=2, cell=cell, units=8, lookback=lag, batch_size=32,
                         learning_rate=0.01, recurrent_initializer="orthogonal", init_scale=0.5)
        run_id = new_run(store, cfg)
        assert train.train_run(store, run_id, cfg, data).status == "done"
        last = store.through_time(run_id)["input"][2]
        assert len(last) == lag
        fade[cell] = last[-1] / last[0]                 # farthest lag / nearest lag
    assert fade["simple_rnn"] < 1e-3 * fade["lstm"], fade

"""rnnlab.nn.kernels' LSTM and GRU loops against their trusted twins: Keras' own loops, numpy."""

import numpy as np
import pytest

from helpers_train import one_thread
from rnnlab import backend
from rnnlab.nn import kernels
from rnnlab.config import ModelConfig, TrainConfig

pytestmark = pytest.mark.slow
one_thread()

if backend.active() != "jax":
    pytest.skip("the LSTM loop is JAX's; on TensorFlow Keras keeps its own",
                allow_module_level=True)


@pytest.fixture
def keras_own_loop(monkeypatch):
    """Inside the test, Keras' LSTM and GRU layers run Keras' own loops again."""
    from keras.src import backend as keras_backend

    def use_keras():
        monkeypatch.setattr(keras_backend, "lstm", kernels.KERAS_OWN["lstm"])
        monkeypatch.setattr(keras_backend, "gru", kernels.KERAS_OWN["gru"])

    return use_keras


def layer_outputs_and_gradients(layer, x, weights_out):
    """The layer's outputs and d(sum(outputs · weights_out))/d(input and every weight)."""
    import jax

    fixed = [v.value for v in layer.non_trainable_variables]   # the dropout seed

    def loss(values, x):
        out, _ = layer.stateless_call(values, fixed, x)
        return (out * weights_out).sum(), out

    values = [v.value for v in layer.trainable_variables]
    (_, out), grads = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(values, x)
    return np.asarray(out), [np.asarray(g) for g in grads[0]] + [np.asarray(grads[1])]


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_the_loop_matches_keras_own_loop_in_outputs_and_every_gradient(keras_own_loop, cell,
                                                                        return_sequences,
                                                                        monkeypatch):
    import keras

    assert kernels.KERAS_OWN, "backend.active() installs the loops on JAX"
    keras.utils.set_random_seed(3)
    layer = getattr(keras.layers, cell)(7, return_sequences=return_sequences)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 11, 3)).astype("float32")                 # (batch, steps, features)
    layer.build(x.shape)
    shape = (5, 11, 7) if return_sequences else (5, 7)
    weights_out = rng.normal(size=shape).astype("float32")
    loop = f"{cell.lower()}_sequence"
    calls = []
    own = getattr(kernels, loop)
    monkeypatch.setattr(kernels, loop, lambda *a: calls.append(1) or own(*a))
    ours = layer_outputs_and_gradients(layer, x, weights_out)
    assert calls, f"Keras' {cell} layer did not run rnnlab's loop"
    keras_own_loop()
    theirs = layer_outputs_and_gradients(layer, x, weights_out)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    assert len(ours[1]) == 4                         # kernel, recurrent kernel, bias, input
    for mine, keras_grad in zip(ours[1], theirs[1]):
        assert np.abs(keras_grad).max() > 0
        np.testing.assert_allclose(mine, keras_grad, rtol=1e-4, atol=1e-5)


def numpy_lstm(xs, w, u, b, h, c):
    """The LSTM equations, one step at a time, in float64."""
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    n = u.shape[0]
    hs = []
    for x in xs:                                                        # (batch, features)
        z = x @ w + h @ u + b                                           # (batch, 4·units)
        i, f, g, o = sig(z[:, :n]), sig(z[:, n:2 * n]), np.tanh(z[:, 2 * n:3 * n]), sig(z[:, 3 * n:])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.stack(hs), h, c


def test_the_loop_from_a_given_state_matches_a_numpy_loop_and_jax_autodiff():
    """Non-zero initial states, and their gradients, which Keras' layers never ask for."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(1)
    xs, w, b = rng.normal(size=(9, 4, 2)), rng.normal(size=(2, 12)), rng.normal(size=12)
    u = rng.normal(size=(3, 12)) * 0.5
    h0, c0 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    args = (xs, w, u, b, h0, c0)
    args32 = [jnp.asarray(a, jnp.float32) for a in args]
    for mine, want in zip(kernels.lstm_sequence(*args32), numpy_lstm(*args)):
        np.testing.assert_allclose(np.asarray(mine), want, rtol=1e-5, atol=1e-5)

    def reference(xs, w, u, b, h0, c0):
        n = u.shape[0]

        def step(carry, x):
            h, c = carry
            z = x @ w + h @ u + b
            c = jax.nn.sigmoid(z[:, n:2 * n]) * c + jax.nn.sigmoid(z[:, :n]) * jnp.tanh(
                z[:, 2 * n:3 * n])
            h = jax.nn.sigmoid(z[:, 3 * n:]) * jnp.tanh(c)
            return (h, c), h

        (h, c), hs = jax.lax.scan(step, (h0, c0), xs)
        return hs, h, c

    def scalar(f):
        # every output counts, so the cotangents of hs, h_last and c_last are all exercised
        return lambda *a: sum((w * o).sum() for w, o in zip((1.0, 2.0, -3.0), f(*a)))

    every = tuple(range(6))
    ours = jax.grad(scalar(kernels.lstm_sequence), argnums=every)(*args32)
    theirs = jax.grad(scalar(reference), argnums=every)(*args32)
    assert len(ours) == 6
    for mine, want in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(want), rtol=1e-4, atol=1e-5)


def numpy_gru(xs, w, u, b_in, b_rec, h):
    """Keras' GRU (reset_after=True), one step at a time, in float64."""
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    n = u.shape[0]
    hs = []
    for x in xs:
        zx, m = x @ w + b_in, h @ u + b_rec                             # (batch, 3·units)
        z, r = sig(zx[:, :n] + m[:, :n]), sig(zx[:, n:2 * n] + m[:, n:2 * n])
        cand = np.tanh(zx[:, 2 * n:] + r * m[:, 2 * n:])
        h = z * h + (1 - z) * cand
        hs.append(h)
    return np.stack(hs)


def test_the_gru_loop_from_a_given_state_matches_a_numpy_loop_and_jax_autodiff():
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(6)
    args = (rng.normal(size=(9, 4, 2)), rng.normal(size=(2, 9)), rng.normal(size=(3, 9)) * 0.5,
            rng.normal(size=9), rng.normal(size=9), rng.normal(size=(4, 3)))
    args32 = [jnp.asarray(a, jnp.float32) for a in args]
    np.testing.assert_allclose(np.asarray(kernels.gru_sequence(*args32)), numpy_gru(*args),
                               rtol=1e-5, atol=1e-5)

    def reference(xs, w, u, b_in, b_rec, h0):
        n = u.shape[0]

        def step(h, x):
            zx, m = x @ w + b_in, h @ u + b_rec
            z, r = jax.nn.sigmoid(zx[:, :n] + m[:, :n]), jax.nn.sigmoid(zx[:, n:2 * n] + m[:, n:2 * n])
            h = z * h + (1 - z) * jnp.tanh(zx[:, 2 * n:] + r * m[:, 2 * n:])
            return h, h

        return jax.lax.scan(step, h0, xs)[1]

    weights = jnp.asarray(rng.normal(size=(9, 4, 3)), jnp.float32)
    every = tuple(range(6))
    ours = jax.grad(lambda *a: (kernels.gru_sequence(*a) * weights).sum(), argnums=every)(*args32)
    theirs = jax.grad(lambda *a: (reference(*a) * weights).sum(), argnums=every)(*args32)
    for mine, want in zip(ours, theirs):
        assert np.abs(np.asarray(want)).max() > 0
        np.testing.assert_allclose(np.asarray(mine), np.asarray(want), rtol=1e-4, atol=1e-5)


def test_cases_the_loop_does_not_cover_go_back_to_keras():
    import jax
    import keras

    x = np.random.default_rng(2).normal(size=(2, 5, 3)).astype("float32")
    with pytest.raises(NotImplementedError):         # Keras' hook: its generic loop follows
        kernels.keras_lstm(x, np.zeros((2, 4), "float32"), np.zeros((2, 4), "float32"), None,
                           np.zeros((3, 16), "float32"), np.zeros((4, 16), "float32"),
                           np.zeros(16, "float32"), keras.activations.relu,
                           keras.activations.sigmoid)
    backwards = keras.layers.LSTM(4, go_backwards=True, activation="relu")
    assert backwards(x).shape == (2, 4)              # Keras' own loop ran it
    # no time steps: Keras' own GRU returns the initial state
    empty = kernels.keras_gru(np.zeros((2, 0, 3), "float32"), np.ones((2, 4), "float32"), None,
                              np.zeros((3, 12), "float32"), np.zeros((4, 12), "float32"),
                              np.zeros((2, 12), "float32"), keras.activations.tanh,
                              keras.activations.sigmoid)
    np.testing.assert_array_equal(np.asarray(empty[0]), np.ones((2, 4)))
    # a typed JAX key as the dropout seed is Keras' business
    kept = kernels.dropout(np.ones((4, 5), "float32"), 0.5, seed=jax.random.key(0))
    assert set(np.unique(np.asarray(kept))) <= {0.0, 2.0}


def test_a_stacked_model_trains_as_it_does_on_keras_own_loop(keras_own_loop):
    """Same seed, same data: the losses of two epochs agree to float32 rounding."""
    import keras

    from rnnlab.nn.model import build_model

    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 12, 2)).astype("float32")
    y = x[:, -4:, 0].mean(axis=1, keepdims=True)
    cfg = ModelConfig(cell="lstm", n_layers=2, units=6, dropout=0.2, lookback=12)

    def losses():
        keras.utils.set_random_seed(5)
        model = build_model(cfg, TrainConfig(), 2)
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        return history.history["loss"]

    ours = losses()
    keras_own_loop()
    theirs = losses()
    assert all(np.isfinite(ours))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)


def test_dropout_masks_keep_the_asked_share_and_differ_from_step_to_step():
    import jax.numpy as jnp
    import keras

    x = jnp.ones((200, 60, 50))                                         # 600,000 elements
    generator = keras.random.SeedGenerator(7)
    first = np.asarray(kernels.dropout(x, 0.2, seed=generator))
    second = np.asarray(kernels.dropout(x, 0.2, seed=generator))
    kept = first > 0
    sd = np.sqrt(0.8 * 0.2 / kept.size)
    assert abs(kept.mean() - 0.8) < 5 * sd
    np.testing.assert_allclose(first[kept], 1 / 0.8)                   # kept values scaled up
    assert np.all(first[~kept] == 0)
    # the next seed gives another mask, not correlated with the first
    assert abs(np.corrcoef(kept.ravel(), (second > 0).ravel())[0, 1]) < 5 / np.sqrt(kept.size)
    # neighbouring elements are not correlated either
    row = kept.ravel().astype(float)
    assert abs(np.corrcoef(row[:-1], row[1:])[0, 1]) < 5 / np.sqrt(kept.size)
    # the same seed gives the same mask: runs stay reproducible
    again = np.asarray(kernels.dropout(x, 0.2, seed=keras.random.SeedGenerator(7)))
    np.testing.assert_array_equal(first, again)


def test_dropout_noise_shape_and_edge_rates_behave_as_keras():
    import jax.numpy as jnp
    import keras

    x = jnp.arange(2 * 5 * 3, dtype="float32").reshape(2, 5, 3) + 1
    shared = np.asarray(kernels.dropout(x, 0.5, noise_shape=(2, 1, 3),
                                        seed=keras.random.SeedGenerator(1)))
    dropped = shared == 0
    assert np.all(dropped == dropped[:, :1, :])                        # one mask for all steps
    assert np.array_equal(np.asarray(kernels.dropout(x, 0.0, seed=1)), np.asarray(x))
    assert not np.asarray(kernels.dropout(x, 1.0, seed=1)).any()

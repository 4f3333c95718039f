"""Echo state network: learns a sine, is deterministic for a seed, round-trips through .npz."""

import numpy as np
import pytest

from rnnlab.config import ModelConfig
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.nn.esn import EchoStateNetwork


def sine_windows(n_rows=600, lookback=30, horizon=1, period=25.0):
    """Windows of a clean sine: X (n, lookback, 1), y (n, horizon)."""
    t = np.arange(n_rows)
    series = np.sin(2 * np.pi * t / period)                       # (T,)
    n = n_rows - lookback - horizon + 1
    X = np.stack([series[i:i + lookback] for i in range(n)])[:, :, None]
    y = np.stack([series[i + lookback:i + lookback + horizon] for i in range(n)])
    return X, y


def cfg(**kw):
    base = dict(cell="esn", lookback=30, horizon=1, reservoir_size=100, ridge=1e-6)
    return ModelConfig(**{**base, **kw})


@pytest.mark.parametrize("horizon", [1, 5])
def test_learns_a_sine(horizon):
    X, y = sine_windows(horizon=horizon)
    split = 400
    esn = EchoStateNetwork(cfg(horizon=horizon), n_features=1, seed=3).fit(X[:split], y[:split])
    pred = esn.predict(X[split:])
    assert pred.shape == (len(X) - split, horizon)
    rmse = float(np.sqrt(np.mean((pred - y[split:]) ** 2)))
    assert rmse < 0.02, rmse      # the sine's own RMS is 0.71


def test_same_seed_same_network_other_seed_differs():
    X, y = sine_windows(n_rows=200)
    a = EchoStateNetwork(cfg(), 1, seed=7).fit(X, y).predict(X)
    b = EchoStateNetwork(cfg(), 1, seed=7).fit(X, y).predict(X)
    c = EchoStateNetwork(cfg(), 1, seed=8).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_spectral_radius_is_set():
    esn = EchoStateNetwork(cfg(spectral_radius=0.5), 1, seed=0)
    assert np.max(np.abs(np.linalg.eigvals(esn.w))) == pytest.approx(0.5)


def test_save_load_round_trip(tmp_path):
    X, y = sine_windows(n_rows=200, horizon=2)
    esn = EchoStateNetwork(cfg(horizon=2, leak_rate=0.5), 1, seed=1).fit(X, y)
    esn.save(tmp_path / "model.npz")
    again = EchoStateNetwork.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(again.predict(X), esn.predict(X))
    assert again.horizon == 2 and again.leak_rate == 0.5


def test_multiple_features_and_empty_input():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 10, 3))
    y = X[:, -1, :1] * 2.0
    esn = EchoStateNetwork(cfg(lookback=10), 3, seed=0).fit(X, y)
    assert esn.predict(X[:0]).shape == (0, 1)
    np.testing.assert_allclose(esn.predict(X), y, atol=1e-3)


def test_mistakes_are_explained():
    esn = EchoStateNetwork(cfg(), 1, seed=0)
    with pytest.raises(RnnlabError, match="not been fitted"):
        esn.predict(np.zeros((2, 30, 1)))
    with pytest.raises(ConfigError, match=r"shape \(n, lookback, 1\)"):
        esn.fit(np.zeros((2, 30)), np.zeros((2, 1)))

"""Echo state network: a fixed random reservoir and a ridge-regression readout (numpy only).

The reservoir is never trained, so no gradient flows through time: this is the remedy for
vanishing and exploding gradients that sidesteps backpropagation altogether. For each window
the state starts at zero and runs over the lookback steps,

    s_t = (1 - a) s_{t-1} + a tanh(W_in u_t + W s_{t-1} + b)

with leak rate a, W scaled so that its largest |eigenvalue| equals the spectral radius, and
W_in, b scaled by the input scaling. The readout is linear in [final state, last input, 1],
fitted in closed form with a ridge penalty (the bias is not penalised).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.config import ModelConfig
from rnnlab.errors import ConfigError, RnnlabError

_FORMAT = 1


class EchoStateNetwork:
    """A reservoir of leaky tanh units with a linear readout to `horizon` outputs."""

    def __init__(self, model_cfg: ModelConfig, n_features: int, seed: int = 0):
        if not isinstance(n_features, int) or n_features < 1:
            raise ConfigError(f"n_features must be >= 1. Received: n_features={n_features!r}")
        self.n_features, self.seed = n_features, int(seed)
        self.horizon = model_cfg.horizon
        self.leak_rate, self.ridge = float(model_cfg.leak_rate), float(model_cfg.ridge)
        self.spectral_radius = float(model_cfg.spectral_radius)
        rng = np.random.default_rng(self.seed)
        n = model_cfg.reservoir_size
        w = rng.uniform(-0.5, 0.5, size=(n, n))                               # (N, N)
        self.w = w * (self.spectral_radius / np.max(np.abs(np.linalg.eigvals(w))))
        self.w_in = rng.uniform(-1, 1, size=(n_features, n)) * model_cfg.input_scaling  # (F, N)
        self.b = rng.uniform(-1, 1, size=n) * model_cfg.input_scaling        # (N,)
        self.w_out: np.ndarray | None = None                                  # (N + F + 1, H)

    @property
    def reservoir_size(self) -> int:
        """Number of reservoir units."""
        return self.w.shape[0]

    def states(self, X: np.ndarray) -> np.ndarray:
        """Final reservoir state of every window: X (n, L, F) -> (n, N)."""
        X = self._check_x(X)
        s = np.zeros((X.shape[0], self.reservoir_size))                       # (n, N)
        a = self.leak_rate
        for t in range(X.shape[1]):
            pre = X[:, t, :] @ self.w_in + s @ self.w + self.b               # (n, N)
            s = (1.0 - a) * s + a * np.tanh(pre)
        return s

    def features(self, X: np.ndarray) -> np.ndarray:
        """Readout inputs [final state, last input step, 1]: (n, N + F + 1)."""
        X = self._check_x(X)
        ones = np.ones((X.shape[0], 1))
        return np.hstack([self.states(X), X[:, -1, :], ones])

    def fit(self, X: np.ndarray, y: np.ndarray) -> "EchoStateNetwork":
        """Fit the ridge readout on windows X (n, L, F) and targets y (n, H); returns self."""
        phi = self.features(X)                                                # (n, D)
        y = np.asarray(y, dtype=float).reshape(len(phi), -1)                  # (n, H)
        if y.shape[1] != self.horizon:
            raise ConfigError(f"y has {y.shape[1]} columns but horizon is {self.horizon}.")
        penalty = self.ridge * np.eye(phi.shape[1])
        penalty[-1, -1] = 0.0                                 # no penalty on the bias
        gram = phi.T @ phi + penalty                                          # (D, D)
        self.w_out = np.linalg.lstsq(gram, phi.T @ y, rcond=None)[0]          # (D, H)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions (n, H) for windows X (n, L, F), in the units the network was fitted in."""
        if self.w_out is None:
            raise RnnlabError("The echo state network has not been fitted yet: call fit first.")
        X = self._check_x(X)
        if len(X) == 0:
            return np.zeros((0, self.horizon))
        return self.features(X) @ self.w_out

    def _check_x(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 3 or X.shape[2] != self.n_features:
            raise ConfigError(f"X must have shape (n, lookback, {self.n_features}). "
                              f"Received: shape {X.shape}")
        return X

    def save(self, path: str | Path) -> None:
        """Write every array and setting to a .npz file (no pickle)."""
        if self.w_out is None:
            raise RnnlabError("Fit the echo state network before saving it.")
        np.savez(Path(path), format=_FORMAT, w=self.w, w_in=self.w_in, b=self.b,
                 w_out=self.w_out, n_features=self.n_features, seed=self.seed,
                 horizon=self.horizon, leak_rate=self.leak_rate, ridge=self.ridge,
                 spectral_radius=self.spectral_radius)

    @classmethod
    def load(cls, path: str | Path) -> "EchoStateNetwork":
        """Read a network written by `save`."""
        with np.load(Path(path), allow_pickle=False) as f:
            esn = cls.__new__(cls)
            esn.w, esn.w_in, esn.b, esn.w_out = f["w"], f["w_in"], f["b"], f["w_out"]
            esn.n_features, esn.seed = int(f["n_features"]), int(f["seed"])
            esn.horizon = int(f["horizon"])
            esn.leak_rate, esn.ridge = float(f["leak_rate"]), float(f["ridge"])
            esn.spectral_radius = float(f["spectral_radius"])
        return esn

"""The exported script's echo state network (`rnnlab.codegen`): numpy code in place of Keras,
reading the same settings block (RESERVOIR_SIZE, SPECTRAL_RADIUS, LEAK_RATE, INPUT_SCALING,
RIDGE, SEED)."""

ESN_CODE = '''
# ---------------------------------------------------------------- echo state network


class EchoStateNetwork:
    """A fixed random reservoir; only the linear readout is fitted (ridge regression)."""

    def __init__(self, n_features):
        rng = np.random.default_rng(SEED)
        self.w_in = rng.uniform(-INPUT_SCALING, INPUT_SCALING,
                                size=(n_features, RESERVOIR_SIZE))  # (n_features, N)
        w = rng.uniform(-0.5, 0.5, size=(RESERVOIR_SIZE, RESERVOIR_SIZE))  # (N, N)
        self.w = w * SPECTRAL_RADIUS / np.max(np.abs(np.linalg.eigvals(w)))
        self.w_out = None

    def states(self, X):
        """Final reservoir state of each window, plus a constant 1 for the readout's bias."""
        h = np.zeros((len(X), RESERVOIR_SIZE))  # (n, N)
        for t in range(X.shape[1]):
            update = np.tanh(X[:, t] @ self.w_in + h @ self.w)  # (n, N)
            h = (1 - LEAK_RATE) * h + LEAK_RATE * update
        return np.hstack([h, np.ones((len(X), 1))])  # (n, N + 1)

    def fit(self, X, y):
        """Ridge regression from reservoir states to targets."""
        s = self.states(X)  # (n, N + 1)
        self.w_out = np.linalg.solve(s.T @ s + RIDGE * np.eye(s.shape[1]), s.T @ y)  # (N + 1, HORIZON)
        return self

    def predict(self, X, verbose=0):
        """Scaled forecasts (n, HORIZON)."""
        return self.states(X) @ self.w_out
'''

ESN_MAIN = '''
def main():
    values, offset, span, windows = prepare()
    X_train, y_train, _ = windows["train"]
    model = EchoStateNetwork(n_features=values.shape[1]).fit(X_train, y_train)
    report(model, values, offset, span, windows)
    if SAVE_MODEL_TO:
        np.savez(SAVE_MODEL_TO, w_in=model.w_in, w=model.w, w_out=model.w_out)
'''

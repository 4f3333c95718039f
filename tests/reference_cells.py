"""A float64 numpy twin of the models rnnlab builds, forward and backward, from the equations.

Nothing here imports Keras, JAX or rnnlab: the weights come in as numpy arrays in Keras' layout,
and every gradient is written out by hand (backpropagation through time), so the twin shares
no code with what it checks.

Cells, in Keras' conventions (inputs x_t (batch, features), state h (batch, units)):

* simple_rnn: h = tanh(x·W + h·U + b); W (F, u), U (u, u), b (u,).
* gru (reset_after=True): gates z, r, candidate n side by side in W (F, 3u), U (u, 3u) and the
  bias (2, 3u) = [input bias, recurrent bias]:
      m = h·U + b_rec, a = x·W + b_in,
      z = σ(a_z + m_z), r = σ(a_r + m_r), n = tanh(a_n + r·m_n), h' = z·h + (1 − z)·n.
* lstm: gates i, f, c (the candidate g), o side by side in W (F, 4u), U (u, 4u), b (4u,):
      a = x·W + h·U + b, c' = σ(a_f)·c + σ(a_i)·tanh(a_c), h' = σ(a_o)·tanh(c').

A network is what `build_model` makes: recurrent layers bottom to top (each optionally
bidirectional, concatenating [forward, backward]; every layer but the top returns its whole
sequence), an optional dropout mask after each, then a Dense head on the top layer's last
output. The loss is the mean squared error, per window the mean over the horizon, then the
mean over the windows weighted by the sample weights, plus the L1/L2 penalties on every
kernel and recurrent kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CELLS = ("simple_rnn", "gru", "lstm")
GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# -- one direction of one layer, time-major: xs (steps, batch, features) -------------------------

def simple_rnn_forward(xs, p):
    w, u, b = p["kernel"], p["recurrent_kernel"], p["bias"]
    h = np.zeros((xs.shape[1], u.shape[0]))
    hs, h_prev = [], []
    for x in xs:
        h_prev.append(h)
        h = np.tanh(x @ w + h @ u + b)
        hs.append(h)
    hs = np.stack(hs)
    return hs, {"xs": xs, "hs": hs, "h_prev": np.stack(h_prev)}


def simple_rnn_backward(p, cache, d_hs):
    w, u = p["kernel"], p["recurrent_kernel"]
    xs, hs, h_prev = cache["xs"], cache["hs"], cache["h_prev"]
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    d_xs = np.zeros_like(xs)
    dh_next = np.zeros_like(hs[0])
    for t in reversed(range(len(xs))):
        dh = d_hs[t] + dh_next
        da = dh * (1 - hs[t] ** 2)
        grads["kernel"] += xs[t].T @ da
        grads["recurrent_kernel"] += h_prev[t].T @ da
        grads["bias"] += da.sum(axis=0)
        d_xs[t] = da @ w.T
        dh_next = da @ u.T
    return d_xs, grads


def gru_forward(xs, p):
    w, u, bias = p["kernel"], p["recurrent_kernel"], p["bias"]
    n_units = u.shape[0]
    b_in, b_rec = bias[0], bias[1]
    h = np.zeros((xs.shape[1], n_units))
    keep = {k: [] for k in ("h_prev", "z", "r", "n", "m_n")}
    hs = []
    for x in xs:
        a = x @ w + b_in                                         # (batch, 3u): z, r, n
        m = h @ u + b_rec
        z = sigmoid(a[:, :n_units] + m[:, :n_units])
        r = sigmoid(a[:, n_units:2 * n_units] + m[:, n_units:2 * n_units])
        m_n = m[:, 2 * n_units:]
        n = np.tanh(a[:, 2 * n_units:] + r * m_n)
        for k, v in (("h_prev", h), ("z", z), ("r", r), ("n", n), ("m_n", m_n)):
            keep[k].append(v)
        h = z * h + (1 - z) * n
        hs.append(h)
    cache = {k: np.stack(v) for k, v in keep.items()}
    cache["xs"] = xs
    return np.stack(hs), cache


def gru_backward(p, cache, d_hs):
    w, u = p["kernel"], p["recurrent_kernel"]
    xs = cache["xs"]
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    d_xs = np.zeros_like(xs)
    dh_next = np.zeros_like(d_hs[0])
    for t in reversed(range(len(xs))):
        h_prev, z, r, n, m_n = (cache[k][t] for k in ("h_prev", "z", "r", "n", "m_n"))
        dh = d_hs[t] + dh_next
        dz = dh * (h_prev - n)
        dn = dh * (1 - z)
        da_z = dz * z * (1 - z)
        da_n = dn * (1 - n ** 2)                               # d(pre-tanh of n)
        da_r = da_n * m_n * r * (1 - r)
        d_a = np.concatenate([da_z, da_r, da_n], axis=1)       # d(x·W + b_in)
        d_m = np.concatenate([da_z, da_r, da_n * r], axis=1)   # d(h·U + b_rec)
        grads["kernel"] += xs[t].T @ d_a
        grads["recurrent_kernel"] += h_prev.T @ d_m
        grads["bias"][0] += d_a.sum(axis=0)
        grads["bias"][1] += d_m.sum(axis=0)
        d_xs[t] = d_a @ w.T
        dh_next = dh * z + d_m @ u.T
    return d_xs, grads


def lstm_forward(xs, p):
    w, u, b = p["kernel"], p["recurrent_kernel"], p["bias"]
    n_units = u.shape[0]
    h = np.zeros((xs.shape[1], n_units))
    c = np.zeros_like(h)
    keep = {k: [] for k in ("h_prev", "c_prev", "i", "f", "g", "o", "c")}
    hs = []
    for x in xs:
        a = x @ w + h @ u + b                                    # (batch, 4u): i, f, c, o
        i = sigmoid(a[:, :n_units])
        f = sigmoid(a[:, n_units:2 * n_units])
        g = np.tanh(a[:, 2 * n_units:3 * n_units])
        o = sigmoid(a[:, 3 * n_units:])
        c_new = f * c + i * g
        for k, v in (("h_prev", h), ("c_prev", c), ("i", i), ("f", f), ("g", g), ("o", o),
                     ("c", c_new)):
            keep[k].append(v)
        c = c_new
        h = o * np.tanh(c)
        hs.append(h)
    cache = {k: np.stack(v) for k, v in keep.items()}
    cache["xs"] = xs
    return np.stack(hs), cache


def lstm_backward(p, cache, d_hs):
    w, u = p["kernel"], p["recurrent_kernel"]
    xs = cache["xs"]
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    d_xs = np.zeros_like(xs)
    dh_next = np.zeros_like(d_hs[0])
    dc_next = np.zeros_like(d_hs[0])
    for t in reversed(range(len(xs))):
        h_prev, c_prev, i, f, g, o, c = (cache[k][t] for k in
                                         ("h_prev", "c_prev", "i", "f", "g", "o", "c"))
        dh = d_hs[t] + dh_next
        tc = np.tanh(c)
        do = dh * tc
        dc = dc_next + dh * o * (1 - tc ** 2)
        di, df, dg = dc * g, dc * c_prev, dc * i
        d_a = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2),
                              do * o * (1 - o)], axis=1)
        grads["kernel"] += xs[t].T @ d_a
        grads["recurrent_kernel"] += h_prev.T @ d_a
        grads["bias"] += d_a.sum(axis=0)
        d_xs[t] = d_a @ w.T
        dh_next = d_a @ u.T
        dc_next = dc * f
    return d_xs, grads


FORWARD = {"simple_rnn": simple_rnn_forward, "gru": gru_forward, "lstm": lstm_forward}
BACKWARD = {"simple_rnn": simple_rnn_backward, "gru": gru_backward, "lstm": lstm_backward}


# -- a layer: one or two directions ---------------------------------------------------------------

def layer_forward(cell, xs, directions, return_sequences):
    """xs (steps, batch, F); directions: [forward params] or [forward, backward params].

    Output (steps, batch, d·u) when return_sequences, else (batch, d·u); the backward direction
    reads the sequence from its end and its outputs are put back in time order.
    """
    outs, caches = [], []
    for k, p in enumerate(directions):
        seq = xs if k == 0 else xs[::-1]
        hs, cache = FORWARD[cell](seq, p)
        caches.append(cache)
        if return_sequences:
            outs.append(hs if k == 0 else hs[::-1])
        else:
            outs.append(hs[-1])
    return np.concatenate(outs, axis=-1), caches


def layer_backward(cell, directions, caches, d_out, return_sequences, steps):
    """d(loss)/d(input sequence) (steps, batch, F) and the gradients of each direction."""
    d_xs, grads = 0.0, []
    n_units = directions[0]["recurrent_kernel"].shape[0]
    for k, (p, cache) in enumerate(zip(directions, caches)):
        part = d_out[..., k * n_units:(k + 1) * n_units]
        if return_sequences:
            d_hs = part if k == 0 else part[::-1]
        else:
            d_hs = np.zeros((steps,) + part.shape)
            d_hs[-1] = part
        d_seq, g = BACKWARD[cell](p, cache, d_hs)
        d_xs = d_xs + (d_seq if k == 0 else d_seq[::-1])
        grads.append(g)
    return d_xs, grads


# -- the whole network ----------------------------------------------------------------------------

@dataclass
class Network:
    """Weights in Keras' layout, float64: layers[k] is a list of directions, each a dict with
    "kernel", "recurrent_kernel", "bias"; the head is (kernel (d·u, H), bias (H,))."""

    cell: str
    layers: list
    head_kernel: np.ndarray
    head_bias: np.ndarray
    l1: float = 0.0
    l2: float = 0.0
    names: list = field(default_factory=list)   # layer names, "lstm_1", ...

    def tensor_names(self) -> list[str]:
        """Keras' trainable_variables order, named as rnnlab names them."""
        out = []
        for name, directions in zip(self.names, self.layers):
            for k, _ in enumerate(directions):
                prefix = name if len(directions) == 1 else \
                    f"{name}/{('forward', 'backward')[k]}"
                out += [f"{prefix}/{w}" for w in ("kernel", "recurrent_kernel", "bias")]
        return out + ["dense/kernel", "dense/bias"]


@dataclass
class Result:
    prediction: np.ndarray            # (batch, H)
    loss: float
    grads: dict                       # tensor name -> gradient, Keras' shape
    d_input: np.ndarray               # (batch, steps, F)
    d_hidden: list                    # d(loss)/d(output of layer k), k below the top: (B, T, d·u)


def run(net: Network, x, y, *, sample_weight=None, masks=None) -> Result:
    """Forward and backward pass on windows x (batch, steps, F), targets y (batch, H).

    masks[k] (batch, steps, d·u) or (batch, d·u), if given, multiplies the output of layer k
    (what a Dropout layer does in training, the 1/keep scale included in the mask).
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    batch, steps, _ = x.shape
    n_layers = len(net.layers)
    w = np.ones(batch) if sample_weight is None else np.asarray(sample_weight, np.float64)

    h = np.swapaxes(x, 0, 1)                                     # (steps, batch, F)
    caches, mask_tm = [], []
    for k, directions in enumerate(net.layers):
        top = k == n_layers - 1
        h, cache = layer_forward(net.cell, h, directions, return_sequences=not top)
        caches.append(cache)
        m = None
        if masks is not None and masks[k] is not None:
            m = np.asarray(masks[k], np.float64)
            m = m if top else np.swapaxes(m, 0, 1)
            h = h * m
        mask_tm.append(m)
    pred = h @ net.head_kernel + net.head_bias                   # (batch, H)
    horizon = pred.shape[1]
    per_window = ((pred - y) ** 2).mean(axis=1)
    loss = float((w * per_window).sum() / w.sum())
    grads = {}
    d_pred = 2 * (pred - y) * w[:, None] / (horizon * w.sum())
    grads["dense/kernel"] = h.T @ d_pred
    grads["dense/bias"] = d_pred.sum(axis=0)
    d_out = d_pred @ net.head_kernel.T                           # d(top layer's masked output)
    d_hidden = []
    names = net.tensor_names()
    per_layer = []
    for k in reversed(range(n_layers)):
        top = k == n_layers - 1
        if mask_tm[k] is not None:
            d_out = d_out * mask_tm[k]
        if not top:
            d_hidden.append(np.swapaxes(d_out, 0, 1))            # before its mask, as the probe
        d_out, layer_grads = layer_backward(net.cell, net.layers[k], caches[k], d_out,
                                            return_sequences=not top, steps=steps)
        per_layer.append(layer_grads)
    loss_penalty = 0.0
    i = 0
    for directions, layer_grads in zip(net.layers, reversed(per_layer)):
        for p, g in zip(directions, layer_grads):
            for kind in ("kernel", "recurrent_kernel"):
                g[kind] = g[kind] + 2 * net.l2 * p[kind] + net.l1 * np.sign(p[kind])
                loss_penalty += net.l2 * (p[kind] ** 2).sum() + net.l1 * np.abs(p[kind]).sum()
            for kind in ("kernel", "recurrent_kernel", "bias"):
                grads[names[i]] = g[kind]
                i += 1
    return Result(pred, loss + loss_penalty, grads, np.swapaxes(d_out, 0, 1),
                  list(reversed(d_hidden)))


def through_time(result: Result) -> dict[str, np.ndarray]:
    """Mean |d(loss)/d(value)| over batch and features per step, index 0 the last step."""
    out = {"input": np.abs(result.d_input).mean(axis=(0, 2))[::-1]}
    for k, d in enumerate(result.d_hidden, start=1):
        out[f"layer_{k}"] = np.abs(d).mean(axis=(0, 2))[::-1]
    return out

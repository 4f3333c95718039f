"""Faster LSTM and GRU loops and cheaper dropout masks for Keras on JAX.

Keras' LSTM on a CPU has no fused kernel: on JAX it differentiates a `lax.scan` over the
time steps, and each step runs as several small compiled kernels. In a profile of the
tutorial's 4 × LSTM(50), an epoch went mostly to two things:

- the four gates were split *before* their activations, so every step ran one kernel per gate
  (the elementwise part of a step cost more than its matrix product);
- autodiff's backward step recomputed gate slices in four kernels, concatenated them, and
  added each step's recurrent-kernel gradient inside the loop.

This loop computes the same LSTM (Keras' gate order i, f, g, o; `sigmoid` and `tanh`) with:

- one `tanh` over all four gates, sigmoid(z) being 0.5 · tanh(z / 2) + 0.5;
- a hand-written backward pass (`jax.custom_vjp`) whose step is one elementwise kernel and
  one product. Everything that does not depend on the gradient carried back in time is
  computed for all steps at once before the loop, and both kernels' gradients come from one
  product after it, where autodiff added a recurrent-kernel gradient at every step.

The backward loop runs unit-major and the two kernels' gradients become one product.
`bench/train_speed.py` measures an epoch of the tutorial's model through these loops against
Keras' own, in the same run (bench/RESULTS.md, "Training speed").

The GRU loop (Keras' reset_after=True form) is built the same way; its backward loop carries
only d(h), every gate gradient being d(h) times a factor known from the forward pass. The
results are those of Keras' own loops to float32 rounding:
`tests/slow/test_kernels.py` checks outputs and every gradient against them.

Dropout masks: Keras draws them with JAX's threefry generator, a noticeable share of a step
in the tutorial's model, which draws four masks a step. `dropout` draws them from a cheaper
counter-based hash (murmur3's 32-bit finaliser applied to each element's index mixed with the
step's seed). Keras' seed generator still gives each call its seed, so a run stays
reproducible from its seed.

`install()` plugs them into Keras: the loops as its backend LSTM and GRU (the hooks Keras offers
for cuDNN), the masks as its backend dropout. Keras keeps building, saving and exporting the
same layers with the same weights. Cases the loops do not cover (masks, `go_backwards`,
`unroll`, other activations, no bias, GRU's reset_after=False) go back to Keras' own loops.
RNNLAB_FAST_KERNELS=0 keeps Keras' own loops and masks (bench/train_speed.py compares both).
On a GPU nothing is replaced. Being custom-VJP functions, the loops support reverse-mode
autodiff only (training, gradients), not `jax.jvp` or `jax.hessian`.
"""

from __future__ import annotations

import os

KERAS_OWN = {}   # Keras' backend functions before install(): "lstm", "gru", "dropout"
COVERED = ("lstm", "gru")   # the cells these loops run: rnnlab.cells' `fast_loop` entries


def wanted() -> bool:
    """RNNLAB_FAST_KERNELS=0 keeps Keras' own loops and masks; anything else uses these."""
    return os.environ.get("RNNLAB_FAST_KERNELS", "1").strip().lower() not in (
        "0", "false", "no", "off")


def install() -> bool:
    """Use this module's loops and dropout masks in Keras (JAX on a CPU, unless turned off)."""
    from keras.src import backend

    if backend.backend() != "jax" or not wanted():
        return False
    import jax

    if jax.default_backend() != "cpu":   # on a GPU, Keras' cuDNN loops are the fast ones
        return False
    if not KERAS_OWN:
        KERAS_OWN.update(lstm=backend.lstm, gru=backend.gru, dropout=backend.random.dropout)
        backend.lstm, backend.gru = keras_lstm, keras_gru
        backend.random.dropout = dropout
    return True


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Keras' `backend.random.dropout`, its keep-or-drop bits from `_hash_bits`."""
    import jax
    import jax.numpy as jnp
    from keras.src.backend.jax import random as keras_random

    typed_key = isinstance(seed, jax.Array) and jax.dtypes.issubdtype(seed.dtype,
                                                                        jax.dtypes.prng_key)
    if typed_key or not 0.0 < float(rate) < 1.0:
        return KERAS_OWN["dropout"](inputs, rate, noise_shape=noise_shape, seed=seed)
    seed = keras_random.jax_draw_seed(seed)                    # (2,) uint32
    shape = keras_random._get_concrete_noise_shape(inputs, noise_shape)
    keep_prob = 1.0 - float(rate)
    threshold = jnp.uint32(min(round(keep_prob * 2 ** 32), 2 ** 32 - 1))
    keep = jnp.broadcast_to(_hash_bits(seed, shape) < threshold, inputs.shape)
    return jax.lax.select(keep, inputs / keep_prob, jnp.zeros_like(inputs))


def _fmix32(h):
    """murmur3's finaliser: a bijection of uint32 in which every input bit moves every output bit."""
    import jax.numpy as jnp

    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def _hash_bits(seed, shape):
    """Uniform uint32 bits of `shape`, one per element, from a (2,) uint32 seed."""
    import math

    import jax
    import jax.numpy as jnp

    golden = jnp.uint32(0x9E3779B9)
    seed = jnp.asarray(seed).astype(jnp.uint32)
    key = _fmix32(seed[0] ^ _fmix32(seed[1] + golden))
    index = jax.lax.iota(jnp.uint32, math.prod(shape))
    return _fmix32(_fmix32(index * golden + key) ^ key).reshape(shape)


def keras_lstm(inputs, initial_state_h, initial_state_c, mask, kernel, recurrent_kernel, bias,
               activation, recurrent_activation, return_sequences=False, go_backwards=False,
               unroll=False):
    """Keras' `backend.lstm` signature; cases not covered go to Keras' own LSTM."""
    import jax.numpy as jnp

    if (mask is not None or go_backwards or unroll or bias is None
            or not _covered(inputs, (initial_state_h, initial_state_c), recurrent_kernel,
                            activation, recurrent_activation)):
        return KERAS_OWN["lstm"](inputs, initial_state_h, initial_state_c, mask, kernel,
                                 recurrent_kernel, bias, activation, recurrent_activation,
                                 return_sequences, go_backwards, unroll)
    xs = jnp.swapaxes(jnp.asarray(inputs), 0, 1)               # (steps, batch, features)
    hs, h, c = lstm_sequence(xs, *(jnp.asarray(v) for v in (
        kernel, recurrent_kernel, bias, initial_state_h, initial_state_c)))
    outputs = jnp.swapaxes(hs, 0, 1) if return_sequences else h[:, None, :]
    return h, outputs, [h, c]


def _covered(inputs, states, recurrent_kernel, activation, recurrent_activation) -> bool:
    """tanh and sigmoid, at least one step, and inputs and states in the weights' dtype (as
    Keras' layers cast them)."""
    import jax.numpy as jnp
    from keras.src import activations, ops

    dtype = recurrent_kernel.dtype
    return (activation in (activations.tanh, ops.tanh, jnp.tanh)
            and recurrent_activation in (activations.sigmoid, ops.sigmoid)
            and inputs.shape[1] != 0 and all(v.dtype == dtype for v in (inputs, *states)))


def _unit_major(v):
    """(steps, batch, k) -> (steps, k, batch), the layout of the backward loops."""
    import jax.numpy as jnp

    return jnp.swapaxes(v, 1, 2)


def lstm_sequence(xs, kernel, recurrent_kernel, bias, h0, c0):
    """One LSTM layer over time: (hs, h_last, c_last).

    xs: (steps, batch, features); kernel: (features, 4·units); recurrent_kernel:
    (units, 4·units); bias: (4·units,), gates i, f, g, o as in Keras; h0, c0: (batch, units);
    hs: (steps, batch, units).
    """
    return _loop("lstm")(xs, kernel, recurrent_kernel, bias, h0, c0)


_LOOPS: dict = {}


def _loop(cell: str):
    """The custom-VJP layer for "lstm" or "gru", built on first use (importing this module
    loads no JAX)."""
    if cell not in _LOOPS:
        import jax

        forward, saving, backward = {
            "lstm": (_lstm_forward, _lstm_forward_saving, _lstm_backward),
            "gru": (_gru_forward, _gru_forward_saving, _gru_backward)}[cell]
        _LOOPS[cell] = jax.custom_vjp(forward)
        _LOOPS[cell].defvjp(saving, backward)
    return _LOOPS[cell]


def _gate_scales(units, dtype):
    """sigmoid(z) = 0.5·tanh(0.5·z) + 0.5, tanh(z) = 1·tanh(1·z) + 0: scale and offset per gate."""
    import jax.numpy as jnp

    half, one, zero = (jnp.full((units,), v, dtype) for v in (0.5, 1.0, 0.0))
    return jnp.concatenate([half, half, one, half]), jnp.concatenate([half, half, zero, half])


def _lstm_scan(xs, kernel, u, bias, h0, c0):
    """The forward loop; keeps each step's gate tanh and cell state for the backward pass."""
    import jax.numpy as jnp
    from jax import lax

    units = u.shape[0]
    scale, offset = _gate_scales(units, u.dtype)
    zx = jnp.einsum("tbf,fk->tbk", xs, kernel) + bias         # (steps, batch, 4·units)

    def step(carry, z_t):
        h, c = carry                                           # (batch, units) each
        t = jnp.tanh((z_t + h @ u) * scale)                    # (batch, 4·units)
        a = t * scale + offset                                 # i, f, g, o activated
        c = a[:, units:2 * units] * c + a[:, :units] * a[:, 2 * units:3 * units]
        h = a[:, 3 * units:] * jnp.tanh(c)
        return (h, c), (h, c, t)

    (h, c), (hs, cs, ts) = lax.scan(step, (h0, c0), zx)
    return (hs, h, c), (hs, cs, ts)


def _lstm_forward(xs, kernel, u, bias, h0, c0):
    return _lstm_scan(xs, kernel, u, bias, h0, c0)[0]


def _lstm_forward_saving(xs, kernel, u, bias, h0, c0):
    out, saved = _lstm_scan(xs, kernel, u, bias, h0, c0)
    return out, (xs, kernel, u, h0, c0) + saved


def _lstm_backward(saved, cotangents):
    """Gradients of every argument from those of (hs, h_last, c_last).

    The loop runs unit-major, (units, batch): its product, recurrent_kernel @ dz, ran in 9.8 µs
    a step where dz @ recurrent_kernel.T took 12.8 µs.
    """
    import jax.numpy as jnp
    from jax import lax

    xs, kernel, u, h0, c0, hs, cs, ts = saved
    d_hs, d_h_last, d_c_last = cotangents
    units, n_features = u.shape[0], xs.shape[-1]
    scale, offset = _gate_scales(units, u.dtype)
    # what does not depend on the gradient carried back in time, for all steps at once
    a = ts * scale + offset                                    # (steps, batch, 4·units)
    i, f, g, o = (a[..., k * units:(k + 1) * units] for k in range(4))
    c_prev = jnp.concatenate([c0[None], cs[:-1]])              # (steps, batch, units)
    h_prev = jnp.concatenate([h0[None], hs[:-1]])
    tc = jnp.tanh(cs)
    # dz = d(gate)·d(gate)/dz, d(gate) being dc·g, dc·c_prev, dc·i for i, f, g; dh·tanh(c) for o
    dz_factor = jnp.concatenate([g, c_prev, i, tc], -1) * (1 - ts * ts) * (scale * scale)
    is_o = (jnp.arange(4 * units) >= 3 * units)[:, None]

    def step(carry, inputs):
        dh, dc = carry                                         # (units, batch) each
        dh_out, factor, dc_dh, f_t = inputs
        dh = dh + dh_out
        dc = dc + dh * dc_dh
        dz = jnp.where(is_o, jnp.tile(dh, (4, 1)), jnp.tile(dc, (4, 1))) * factor
        return (u @ dz, dc * f_t), dz                          # dz: (4·units, batch)

    (dh0, dc0), dzs = lax.scan(
        step, (d_h_last.T, d_c_last.T),
        tuple(_unit_major(v) for v in (d_hs, dz_factor, o * (1 - tc * tc), f)), reverse=True)
    dzs = _unit_major(dzs)                                     # (steps, batch, 4·units)
    # both kernels' gradients in one product: [xs, h_prev]ᵀ · dz
    below_and_before = jnp.concatenate([xs, h_prev], -1).reshape(-1, n_features + units)
    d_kernels = below_and_before.T @ dzs.reshape(-1, 4 * units)
    d_xs = jnp.einsum("tbk,fk->tbf", dzs, kernel)              # (steps, batch, features)
    return (d_xs, d_kernels[:n_features], d_kernels[n_features:], dzs.sum(axis=(0, 1)),
            dh0.T, dc0.T)


# -- GRU --------------------------------------------------------------------------------------


def keras_gru(inputs, initial_state, mask, kernel, recurrent_kernel, bias, activation,
              recurrent_activation, return_sequences=False, go_backwards=False, unroll=False,
              reset_after=True):
    """Keras' `backend.gru` signature; cases not covered go to Keras' own GRU."""
    import jax.numpy as jnp

    if (mask is not None or go_backwards or unroll or not reset_after or bias is None
            or not _covered(inputs, (initial_state,), recurrent_kernel, activation,
                            recurrent_activation)):
        return KERAS_OWN["gru"](inputs, initial_state, mask, kernel, recurrent_kernel, bias,
                                activation, recurrent_activation, return_sequences,
                                go_backwards, unroll, reset_after)
    bias = jnp.asarray(bias)                                   # (2, 3·units): input, recurrent
    xs = jnp.swapaxes(jnp.asarray(inputs), 0, 1)               # (steps, batch, features)
    hs = gru_sequence(xs, jnp.asarray(kernel), jnp.asarray(recurrent_kernel), bias[0], bias[1],
                      jnp.asarray(initial_state))
    h = hs[-1]
    outputs = jnp.swapaxes(hs, 0, 1) if return_sequences else h[:, None, :]
    return h, outputs, [h]


def gru_sequence(xs, kernel, recurrent_kernel, input_bias, recurrent_bias, h0):
    """One GRU layer over time (Keras' reset_after=True form, gates z, r, h): hs.

    xs: (steps, batch, features); kernel: (features, 3·units); recurrent_kernel: (units,
    3·units); input_bias, recurrent_bias: (3·units,); h0: (batch, units); hs: (steps, batch,
    units). h = z·h_prev + (1 − z)·tanh(x·W_h + b_h + r·(h_prev·U_h + rb_h)).
    """
    return _loop("gru")(xs, kernel, recurrent_kernel, input_bias, recurrent_bias, h0)


def _gru_scan(xs, kernel, u, input_bias, recurrent_bias, h0):
    """The forward loop; keeps each step's gates, candidate and recurrent candidate term."""
    import jax.numpy as jnp
    from jax import lax

    units = u.shape[0]
    zx = jnp.einsum("tbf,fk->tbk", xs, kernel) + input_bias    # (steps, batch, 3·units)

    def step(h, z_t):                                          # h: (batch, units)
        m = h @ u + recurrent_bias                             # (batch, 3·units)
        zr = 0.5 * jnp.tanh(0.5 * (z_t[:, :2 * units] + m[:, :2 * units])) + 0.5
        m_h = m[:, 2 * units:]
        n = jnp.tanh(z_t[:, 2 * units:] + zr[:, units:] * m_h)
        h = n + zr[:, :units] * (h - n)
        return h, (h, zr, n, m_h)

    _, (hs, zrs, ns, m_hs) = lax.scan(step, h0, zx)
    return hs, (hs, zrs, ns, m_hs)


def _gru_forward(xs, kernel, u, input_bias, recurrent_bias, h0):
    return _gru_scan(xs, kernel, u, input_bias, recurrent_bias, h0)[0]


def _gru_forward_saving(xs, kernel, u, input_bias, recurrent_bias, h0):
    hs, saved = _gru_scan(xs, kernel, u, input_bias, recurrent_bias, h0)
    return hs, (xs, kernel, u, h0) + saved


def _gru_backward(saved, d_hs):
    """Every gradient of a step is d(h) times a factor known from the forward pass, so the
    loop carries d(h) alone and the gate gradients are formed for all steps after it."""
    import jax.numpy as jnp
    from jax import lax

    xs, kernel, u, h0, hs, zrs, ns, m_hs = saved
    units = u.shape[0]
    z, r = zrs[..., :units], zrs[..., units:]                  # (steps, batch, units) each
    h_prev = jnp.concatenate([h0[None], hs[:-1]])
    d_n_pre = (1 - z) * (1 - ns * ns)                          # d(candidate pre-tanh) / dh
    to_x = jnp.concatenate([(h_prev - ns) * z * (1 - z),       # z gate
                            d_n_pre * m_hs * r * (1 - r),      # r gate
                            d_n_pre], -1)                      # candidate: (steps, batch, 3u)
    to_m = jnp.concatenate([to_x[..., :2 * units], d_n_pre * r], -1)

    def step(dh, inputs):                                      # dh: (units, batch)
        dh_out, m_factor, z_t = inputs
        dh = dh + dh_out
        dm = jnp.tile(dh, (3, 1)) * m_factor                   # (3·units, batch)
        return dh * z_t + u @ dm, dh

    dh0, dh_all = lax.scan(step, jnp.zeros_like(h0.T),
                           tuple(_unit_major(v) for v in (d_hs, to_m, z)), reverse=True)
    dh_all = jnp.tile(_unit_major(dh_all), (1, 1, 3))          # (steps, batch, 3·units)
    d_zx, d_m = dh_all * to_x, dh_all * to_m
    n_features = xs.shape[-1]
    d_kernel = xs.reshape(-1, n_features).T @ d_zx.reshape(-1, 3 * units)
    d_u = h_prev.reshape(-1, units).T @ d_m.reshape(-1, 3 * units)
    d_xs = jnp.einsum("tbk,fk->tbf", d_zx, kernel)
    return d_xs, d_kernel, d_u, d_zx.sum(axis=(0, 1)), d_m.sum(axis=(0, 1)), dh0.T

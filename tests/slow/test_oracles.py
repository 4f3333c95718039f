"""The engine's forecasts and gradient telemetry against a twin that shares none of its code.

The twin (`tests/reference_cells.py`) is numpy in float64, written from the cell equations,
with a hand-written backward pass. It takes the weights of a model `build_model` makes and
must reproduce, on the same windows:

* the forecast (`train.predict_function`, the compiled inference call runs use);
* the per-tensor gradient norms the training step's meter records, and the gradient the
  training step applies (SGD, learning rate 1: the weight change is minus the gradient,
  element by element);
* the gradient through time (`gradients.through_time`): mean |d loss / d x_t| per step back,
  and the same for the output sequence of every layer below the top.

Tolerances. The engine computes in float32 (unit roundoff 6e-8), the twin in float64. A
forecast is a few hundred multiply-adds deep (a recurrence of up to 200 steps through 1-3
layers): its rounding stays near 1e-6 relative, so rtol 1e-4 leaves room while a wrong gate, a
swapped bias or a missing step moves it by 1e-2 or more. Gradients are sums over windows and
steps of products that run back through the whole recurrence, and Keras' own loops and rnnlab's
loops order those sums differently: rtol 1e-3. Elements that are zero up to cancellation get
an absolute floor scaled to the tensor's largest value (1e-5 of it), never a fixed one.
"""

from dataclasses import dataclass

import numpy as np
import pytest

import reference_cells as ref
from helpers_train import one_thread
from rnnlab import backend, train
from rnnlab.config import ModelConfig, TrainConfig
from rnnlab.nn import gradients, kernels
from rnnlab.nn import model as model_lib

pytestmark = pytest.mark.slow
one_thread()

FORWARD_RTOL = 1e-4
GRAD_RTOL = 1e-3
FLOOR = 1e-5          # absolute tolerance, as a share of the largest value compared
N_FEATURES = 2


def close(actual, expected, rtol, what=""):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, what
    atol = FLOOR * max(np.abs(expected).max(), 1e-30)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


@dataclass(frozen=True)
class Case:
    id: str
    cell: str
    units: tuple
    lookback: int
    batch: int
    bidirectional: bool = False
    horizon: int = 1
    l1: float = 0.0
    l2: float = 0.0

    def model_config(self, **more) -> ModelConfig:
        return ModelConfig(cell=self.cell, n_layers=len(self.units), units=self.units,
                           bidirectional=self.bidirectional, lookback=self.lookback,
                           horizon=self.horizon, l1=self.l1, l2=self.l2, **more)


CASES = [
    Case("lstm-3-layers", "lstm", (5, 4, 3), lookback=12, batch=4, horizon=2, l2=0.01),
    Case("gru-2-layers-bidirectional-200-steps-batch-1", "gru", (4, 3), lookback=200, batch=1,
         bidirectional=True, l1=0.001),
    Case("simple_rnn-3-layers-bidirectional-1-step", "simple_rnn", (3, 4, 3), lookback=1,
         batch=2, bidirectional=True, horizon=2),
    Case("lstm-2-layers-bidirectional-1-step-batch-1", "lstm", (4, 3), lookback=1, batch=1,
         bidirectional=True),
    Case("lstm-200-steps", "lstm", (3, 3), lookback=200, batch=2),
    Case("gru-3-layers", "gru", (4, 3, 3), lookback=10, batch=3, horizon=2),
    Case("simple_rnn-2-layers-200-steps-batch-1", "simple_rnn", (3, 3), lookback=200, batch=1),
]


def build(case: Case, train_cfg=None, seed=0, jit_compile=False, **model_more):
    """The project's model for `case`, every bias given random values.

    Keras starts biases at zero (the LSTM's forget gate at one), where a mix-up of gates in the
    bias would go unseen; the kernels keep the initialisers the project chose.
    """
    keras = backend.keras()
    keras.utils.set_random_seed(seed)
    net = model_lib.build_model(case.model_config(**model_more),
                                train_cfg or TrainConfig(optimizer="sgd", learning_rate=1.0),
                                N_FEATURES, jit_compile=jit_compile)
    rng = np.random.default_rng(seed + 100)
    for v in net.trainable_variables:
        if v.name == "bias":
            v.assign(rng.normal(scale=0.5, size=v.shape).astype("float32"))
    return net


_BUILT: dict = {}


@pytest.fixture
def built(request):
    """The model of the test's case, built once per module (building compiles the weight
    initialisers: seconds), at its initial weights for every test. Its training step is
    compiled by XLA, as `train.execution_plan` chooses for long runs."""
    case = request.param
    if case.id not in _BUILT:
        net = build(case, jit_compile=True)
        _BUILT[case.id] = (net, [np.array(w) for w in net.get_weights()])
    net, weights = _BUILT[case.id]
    net.set_weights(weights)
    return case, net


def windows(case: Case, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(case.batch, case.lookback, N_FEATURES)).astype("float32")
    y = rng.normal(size=(case.batch, case.horizon)).astype("float32")
    return x, y


def twin_of(net, case: Case) -> ref.Network:
    """The reference network with the model's weights, read from Keras and cast to float64."""
    keras = backend.keras()

    def as64(v):
        return np.asarray(v.numpy(), dtype=np.float64)

    layers, names = [], []
    for i in range(1, len(case.units) + 1):
        name = f"{case.cell}_{i}"
        layer = net.get_layer(name)
        subs = ([layer.forward_layer, layer.backward_layer]
                if isinstance(layer, keras.layers.Bidirectional) else [layer])
        layers.append([{k: as64(getattr(s.cell, k)) for k in ("kernel", "recurrent_kernel", "bias")}
                       for s in subs])
        names.append(name)
    head = net.get_layer("dense")
    return ref.Network(case.cell, layers, as64(head.kernel), as64(head.bias), l1=case.l1,
                       l2=case.l2, names=names)


@pytest.fixture
def fast_loop_calls(monkeypatch):
    """Counts the calls of rnnlab's LSTM and GRU loops (traces included) during the test."""
    calls = {"lstm": 0, "gru": 0}
    for cell in calls:
        own = getattr(kernels, f"{cell}_sequence")

        def counted(*args, _cell=cell, _own=own):
            calls[_cell] += 1
            return _own(*args)

        monkeypatch.setattr(kernels, f"{cell}_sequence", counted)
    return calls


def expect_fast_loop(calls, cell, used=True):
    """On JAX the LSTM and GRU layers must have run rnnlab's loop (or not, when `used` is
    False); SimpleRNN and TensorFlow always run Keras' own."""
    if backend.active() != "jax" or cell == "simple_rnn":
        return
    if used:
        assert calls[cell] > 0, f"rnnlab's {cell} loop did not run"
    else:
        assert calls[cell] == 0, f"rnnlab's {cell} loop ran"


# -- the reference checks itself ----------------------------------------------------------------

@pytest.mark.parametrize("cell", ref.CELLS)
def test_the_reference_backward_pass_is_the_derivative_of_its_forward_pass(cell):
    """Central differences of the float64 forward pass, for a few entries of every tensor and
    of the input: the hand-written BPTT is right before it judges anything."""
    rng = np.random.default_rng(7)
    units, gates = 3, ref.GATES[cell]

    def direction(n_in):
        bias_shape = (2, gates * units) if cell == "gru" else (gates * units,)
        return {"kernel": rng.normal(size=(n_in, gates * units)),
                "recurrent_kernel": rng.normal(size=(units, gates * units)) * 0.6,
                "bias": rng.normal(size=bias_shape)}

    net = ref.Network(cell, [[direction(2), direction(2)], [direction(2 * units)]],
                      rng.normal(size=(units, 2)), rng.normal(size=2), l1=0.01, l2=0.02,
                      names=[f"{cell}_1", f"{cell}_2"])
    x, y = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 2))
    weights = np.array([1.0, 0.0, 2.0])
    masks = [rng.choice([0.0, 2.0], size=(3, 5, 2 * units)), None]
    result = ref.run(net, x, y, sample_weight=weights, masks=masks)
    tensors = {name: arr for name, arr in zip(net.tensor_names(), [
        d[k] for directions in net.layers for d in directions
        for k in ("kernel", "recurrent_kernel", "bias")] + [net.head_kernel, net.head_bias])}
    eps = 1e-6
    for name, arr in list(tensors.items()) + [("input", x)]:
        for index in [tuple(rng.integers(s) for s in arr.shape) for _ in range(3)]:
            keep = arr[index]
            arr[index] = keep + eps
            up = ref.run(net, x, y, sample_weight=weights, masks=masks).loss
            arr[index] = keep - eps
            down = ref.run(net, x, y, sample_weight=weights, masks=masks).loss
            arr[index] = keep
            numeric = (up - down) / (2 * eps)
            analytic = (result.d_input if name == "input" else result.grads[name])[index]
            assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-8), (name, index)


# -- inference --------------------------------------------------------------------------------

@pytest.mark.parametrize("built", CASES, ids=lambda c: c.id, indirect=True)
def test_forecast_equals_the_reference(built, fast_loop_calls):
    case, net = built
    x, _ = windows(case)
    ours = train.predict_function(net)(x)                          # (batch, horizon)
    theirs = ref.run(twin_of(net, case), x, np.zeros((case.batch, case.horizon))).prediction
    close(ours, theirs, FORWARD_RTOL, "forecast")
    assert np.abs(theirs).max() > 1e-2                            # not trivially small
    expect_fast_loop(fast_loop_calls, case.cell)


# -- the training step's telemetry, and what it applies ------------------------------------------

def one_step(net, x, y, sample_weight=None, batch_size=None):
    """Fit one epoch without shuffling; the meter's reading and every weight before and after."""
    steps = -(-len(x) // (batch_size or len(x)))
    meter = net.start_meter(steps)
    meter.reset()
    before = [v.numpy().astype(np.float64) for v in net.trainable_variables]
    net.fit(x, y, sample_weight=sample_weight, batch_size=batch_size or len(x), epochs=1,
            shuffle=False, verbose=0)
    after = [v.numpy().astype(np.float64) for v in net.trainable_variables]
    return meter.read(), before, after


def check_step_against(result, reading, before, after, names, recurrent=True):
    """Meter norms = reference norms; with SGD at learning rate 1 the change of every weight is
    minus its reference gradient (float32 rounding of the weight itself allowed for).

    recurrent=False: one time step, where the recurrent kernels meet only the zero initial
    state, so their gradient is their penalty's alone (zero without one)."""
    assert reading.steps == 1
    assert list(reading.tensor_norms) == names
    for name, w0, w1 in zip(names, before, after):
        g = result.grads[name]
        assert np.abs(g).max() > 0 or (not recurrent and name.endswith("recurrent_kernel")), name
        mean, largest = reading.tensor_norms[name]
        assert mean == pytest.approx(np.linalg.norm(g), rel=GRAD_RTOL), name
        assert largest == pytest.approx(np.linalg.norm(g), rel=GRAD_RTOL), name
        applied = w0 - w1
        slack = 4 * np.finfo(np.float32).eps * np.maximum(np.abs(w0), np.abs(w1))
        err = np.abs(applied - g) - slack
        bound = GRAD_RTOL * np.abs(g) + FLOOR * np.abs(g).max()
        assert np.all(err <= bound), (name, float(np.max(err - bound)))
    global_norm = np.sqrt(sum(np.linalg.norm(result.grads[n]) ** 2 for n in names))
    assert reading.step_norms == pytest.approx([global_norm], rel=GRAD_RTOL)


@pytest.mark.parametrize("built", CASES, ids=lambda c: c.id, indirect=True)
def test_training_step_records_and_applies_the_reference_gradient(built, fast_loop_calls):
    """Dropout rate 0, the penalties of the case: the compiled step's gradient = the twin's."""
    case, net = built
    x, y = windows(case)
    twin = twin_of(net, case)
    result = ref.run(twin, x, y)
    names = twin.tensor_names()
    assert gradients.tensor_names(net) == names
    reading, before, after = one_step(net, x, y)
    check_step_against(result, reading, before, after, names, recurrent=case.lookback > 1)
    expect_fast_loop(fast_loop_calls, case.cell)


def test_zero_weight_pad_rows_count_for_nothing_in_the_recorded_norms():
    """As `train_run` trains on JAX: windows padded to whole batches, pad rows weighted 0. Each
    step's recorded global norm is the twin's on that batch's real rows alone."""
    case = Case("lstm-padded", "lstm", (4, 3), lookback=6, batch=5)
    net = build(case, TrainConfig(optimizer="sgd", learning_rate=1e-9),   # weights stay put
                jit_compile=True)
    x, y = windows(case)
    xp, yp, w = train.pad_to_batches(x, y, batch_size=3)
    assert len(xp) == 6 and w[-1] == 0
    twin = twin_of(net, case)
    names = twin.tensor_names()
    per_batch = [ref.run(twin, xp[i:i + 3], yp[i:i + 3], sample_weight=w[i:i + 3]).grads
                 for i in (0, 3)]
    real_rows_only = ref.run(twin, x[3:], y[3:]).grads
    for name in names:
        close(per_batch[1][name], real_rows_only[name], 1e-9, name)
    reading, _, _ = one_step(net, xp, yp, sample_weight=w, batch_size=3)
    assert reading.steps == 2
    expected = [np.sqrt(sum(np.linalg.norm(g[n]) ** 2 for n in names)) for g in per_batch]
    assert reading.step_norms == pytest.approx(expected, rel=GRAD_RTOL)
    for name in names:
        norms = [np.linalg.norm(g[name]) for g in per_batch]
        assert reading.tensor_norms[name][0] == pytest.approx(np.mean(norms), rel=GRAD_RTOL)
        assert reading.tensor_norms[name][1] == pytest.approx(max(norms), rel=GRAD_RTOL)


# -- the gradient through time ------------------------------------------------------------------

@pytest.mark.parametrize("built", CASES, ids=lambda c: c.id, indirect=True)
def test_gradient_through_time_equals_the_reference(built, fast_loop_calls):
    case, net = built
    x, y = windows(case)
    series = gradients.through_time(net, x, y)
    # the probe leaves out the penalties: they do not depend on the inputs
    expected = ref.through_time(ref.run(twin_of(net, case), x, y))
    assert list(series) == list(expected)
    for key, values in expected.items():
        assert len(series[key]) == case.lookback
        close(series[key], values, GRAD_RTOL, key)
    if case.lookback > 1:      # the series is not flat: the comparison saw it change with lag
        assert np.ptp(expected["input"]) > 0.1 * expected["input"].mean()
    expect_fast_loop(fast_loop_calls, case.cell)


# -- dropout --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_with_dropout_configured_inference_is_the_reference_without_dropout(cell,
                                                                            fast_loop_calls):
    """Dropout after each layer and recurrent dropout inside: inference (the forecast and the
    probe) drops nothing, so it is the twin with no dropout at all.

    Keras' LSTM and GRU layers hand their loop to the backend (rnnlab's loop on JAX) only
    without recurrent dropout, in training and in inference alike: with it they run Keras' own
    loop, which must give the same numbers."""
    case = Case(f"{cell}-dropout", cell, (4, 3), lookback=8, batch=3)
    net = build(case, dropout=0.3, recurrent_dropout=0.25)
    assert net.get_layer("dropout_1").rate == 0.3
    x, y = windows(case)
    twin = twin_of(net, case)
    result = ref.run(twin, x, y)
    close(train.predict_function(net)(x), result.prediction, FORWARD_RTOL, "forecast")
    series = gradients.through_time(net, x, y)
    for key, values in ref.through_time(result).items():
        close(series[key], values, GRAD_RTOL, key)
    if backend.active() == "jax":     # a training call, traced (not run): Keras' loop there too
        import jax

        trainable = [v.value for v in net.trainable_variables]
        fixed = [v.value for v in net.non_trainable_variables]
        jax.eval_shape(lambda x_: net.stateless_call(trainable, fixed, x_, training=True)[0], x)
    expect_fast_loop(fast_loop_calls, cell, used=False)


def test_training_step_with_dropout_layers_equals_the_reference_under_the_same_masks(
        fast_loop_calls):
    """Dropout layers between the layers (no recurrent dropout, so rnnlab's loops train).

    The masks are random, but a Dropout layer's mask depends only on its seed state and the
    shape: replaying each layer on ones from the seed state the step started with gives the
    mask (1/keep where kept) the step used. Under those masks the twin's gradient is the one
    the meter records and the step applies.

    The replay relies on rnnlab's own masks (`kernels.dropout`, installed on JAX), drawn from
    the seed and the element's index alone."""
    if backend.active() != "jax":
        pytest.skip("the masks are rnnlab's on JAX only")
    cell = "lstm"
    case = Case(f"{cell}-dropout-training", cell, (4, 3, 3), lookback=7, batch=4)
    net = build(case, dropout=(0.4, 0.3, 0.5), jit_compile=True)
    x, y = windows(case)
    drops = [net.get_layer(f"dropout_{i}") for i in (1, 2, 3)]
    seeds = [[v.numpy().copy() for v in d.non_trainable_variables] for d in drops]
    twin = twin_of(net, case)
    reading, before, after = one_step(net, x, y)
    masks = []
    for k, (drop, state) in enumerate(zip(drops, seeds)):
        shape = (case.batch, case.lookback, 4 if k == 0 else 3) if k < 2 else (case.batch, 3)
        mask, _ = drop.stateless_call([], state, np.ones(shape, "float32"), training=True)
        mask = np.asarray(mask, np.float64)
        keep = 1 - drop.rate
        assert np.all((mask == 0) | np.isclose(mask, 1 / keep, rtol=1e-6))
        masks.append(mask)
    assert any((m == 0).any() for m in masks), "no unit was dropped: a weak test"
    result = ref.run(twin, x, y, masks=masks)
    check_step_against(result, reading, before, after, twin.tensor_names())
    # the masks matter: without them the twin's norms are elsewhere
    plain = ref.run(twin, x, y)
    assert any(abs(np.linalg.norm(plain.grads[n]) / np.linalg.norm(result.grads[n]) - 1) > 1e-2
               for n in twin.tensor_names())
    expect_fast_loop(fast_loop_calls, cell)

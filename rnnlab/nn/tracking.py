"""GradientTrackingModel: a functional Keras model whose training step records, then clips.

Per step: gradients (tf.GradientTape or jax.grad) -> per-tensor L2 norms (n_tensors,) -> the
meter (`rnnlab.nn.meter`: sum/max per tensor, global norm per step) -> clip by value / by norm
-> apply. The optimizer therefore carries no clipnorm/clipvalue of its own. On JAX the step is
stateless: the meter's variables travel in the metrics state.
"""

from __future__ import annotations

from rnnlab import backend
from rnnlab.nn.gradients import tensor_names
from rnnlab.nn.meter import GradientMeter

keras = backend.keras()
ops = keras.ops
ON_JAX = backend.active() == "jax"


def norms_of(grads):
    """Stacked L2 norms `(n,)` of a list of gradient tensors."""
    return ops.stack([ops.sqrt(ops.sum(ops.square(g))) for g in grads])


def clip_gradients(grads: list, norms, clipnorm: float | None, clipvalue: float | None) -> list:
    """In the compiled step: clip each tensor's gradient by value, then by norm, like Keras does.

    `norms` (n,) are the gradients' norms before clipping. Keras allows only one of the two; when
    both are set, the value clip runs first and the norm clip sees the value-clipped gradient.
    """
    if clipvalue:
        grads = [ops.clip(g, -clipvalue, clipvalue) for g in grads]
        norms = norms_of(grads)
    if clipnorm:
        scales = clipnorm / ops.maximum(norms, clipnorm)  # (n,) 1 where the norm is within bounds
        grads = [g * scales[i] for i, g in enumerate(grads)]
    return grads


@keras.saving.register_keras_serializable(package="rnnlab")
class GradientTrackingModel(keras.Model):
    """A functional model whose compiled training step records gradient norms, then clips."""

    _clipnorm = None
    _clipvalue = None
    _track_norms = True
    meter = None

    def configure_tracking(self, *, clipnorm=None, clipvalue=None, track=True) -> None:
        """Set clipping and whether norms are recorded (before the first fit)."""
        self._clipnorm = float(clipnorm) if clipnorm else None
        self._clipvalue = float(clipvalue) if clipvalue else None
        self._track_norms = bool(track)
        self.train_function = None

    def start_meter(self, max_steps: int) -> GradientMeter:
        """Create the per-epoch gradient accumulators, sized for `max_steps` steps."""
        if self.meter is None:
            self.meter = GradientMeter(tensor_names(self), max_steps)
        self.train_function = None
        return self.meter

    @property
    def _tracking(self) -> bool:
        return self._track_norms and self.meter is not None

    def train_step(self, *args):
        return self._jax_train_step(*args) if ON_JAX else self._tf_train_step(*args)

    def _tf_train_step(self, data):
        import tensorflow as tf

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)                          # (batch, horizon)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred,
                                      sample_weight=sample_weight, training=True)
            # the same loss bookkeeping as Keras' own TensorFlow train_step
            self._loss_tracker.update_state(loss, sample_weight=tf.shape(x)[0])
            scaled = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables)
        grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                 for g, v in zip(grads, variables)]
        norms = norms_of(grads)                                      # (n_tensors,)
        if self._tracking:
            self.meter.update_state(norms)
        grads = clip_gradients(grads, norms, self._clipnorm, self._clipvalue)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _jax_train_step(self, state, data):
        import jax

        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (_, aux), grads = grad_fn(trainable, non_trainable, metrics_vars, x, y, sample_weight,
                                  training=True, optimizer_variables=optimizer_vars)
        loss, y_pred, non_trainable, metrics_vars = aux
        norms = norms_of(grads)                                      # (n_tensors,)
        grads = clip_gradients(grads, norms, self._clipnorm, self._clipvalue)
        trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads,
                                                                   trainable)
        # the same loss bookkeeping as Keras' own JAX train_step, plus the meter
        mapping = list(zip(self.metrics_variables, metrics_vars))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            if self._tracking:
                self.meter.update_state(norms)
            rows = ops.shape(x)[0] if sample_weight is None else ops.sum(sample_weight)
            self._loss_tracker.update_state(loss, sample_weight=rows)
            logs = self.compute_metrics(x, y, y_pred, sample_weight)
        metrics_vars = [scope.get_current_value(ref) for ref, _ in mapping]
        return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)

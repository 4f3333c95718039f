"""The Keras side of the engine: the networks a run trains and what runs inside their training.

One idea per module:

  model        build a run's Keras model from its config (layers, optimizer, loss, compiling)
  tracking     GradientTrackingModel, the model class whose training step records, then clips
  meter        GradientMeter, the per-step gradient accumulators that step updates
  gradients    gradient telemetry outside the step: per-tensor norms, the gradient through time
  callbacks    the callbacks `rnnlab.train` hands to fit: the run recorder, early stopping
  checkpoint   the checkpoint files, written by a background epoch writer
  kernels      rnnlab's LSTM and GRU loops and dropout masks for Keras on JAX
  esn          the echo state network (numpy only, no Keras)

A module that defines Keras classes calls `backend.keras()` when it is imported, so the backend
is chosen before Keras loads, whichever module comes first. This package's own import loads
nothing: `rnnlab.nn.esn`, `rnnlab.nn.kernels` and `rnnlab.nn.checkpoint` import without Keras.
"""

"""The experiments of the Faster optimizers page: real Keras optimizers on a 2-D surface and on Fashion-MNIST.

On a surface, each optimizer moves one 2-component `keras.Variable` from the
same start: the gradient comes from TensorFlow's autodiff of the surface and
the update is the optimizer's own `apply_gradients`. On the network, a race
trains the lecture's model from the same initial weights with each optimizer,
and a second experiment reads AdaGrad's accumulators during training. The only
module of this package that uses Keras, and only inside functions, which run
in the training worker.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from lab.config import OPTIMIZER_PARAMETERS, TrainConfig, float_literal
from lab.engines import ENGINES
from lab.topics.optimizers.surfaces import (
    ESCAPE_LIMIT,
    REFERENCE_STEP,
    SURFACES,
    OptimizerSettings,
    Surface,
    Trajectory,
)

__all__ = [  # what the package re-exports
    "surface_engine_key", "run_trajectory", "run_trajectories", "RACE_LEARNING_RATES", "race_configs", "race",
    "EffectiveRateLog", "effective_rate_experiment", "adagrad_config", "adagrad_comparison", "adagrad_code",
]


# Keras names each slot variable "<variable>_<slot>"; the slides call them m and s.
_SLOT_NAMES = {"momentum": "m", "accumulator": "s", "velocity": "s"}


def _slot_variables(optimizer) -> dict:
    slots = {}
    for variable in optimizer.variables:
        suffix = variable.name.rsplit("_", 1)[-1]
        if suffix in _SLOT_NAMES:
            slots[_SLOT_NAMES[suffix]] = variable
    return slots


# ----------------------------------------------------------------------
# Engines: traced step functions reused across requests
# ----------------------------------------------------------------------
# TensorFlow never gives back the memory of a traced function (about 0.5 MB
# for one of these small steps), so a new tf.function per optimizer per request
# would grow the server with every click. Requests that differ only in the
# learning rate (a variable inside the optimizer) or the number of steps share
# one engine; everything Keras bakes into the graph (the surface, the
# optimizer, its momentum, rho and betas) is in the key.
# lab.engines's pool keeps them.


def surface_engine_key(surface_key: str, config: TrainConfig) -> tuple:
    """The settings a traced surface step depends on; requests with equal keys share an engine.

    Args:
        surface_key: a key of SURFACES.
        config: the optimizer's config (from OptimizerSettings.config).
    Returns:
        a hashable tuple without the learning rate, which is a variable of the optimizer.
    """
    baked = tuple((name, getattr(config, name)) for name in OPTIMIZER_PARAMETERS[config.optimizer]
                  if name not in ("learning_rate", "decay"))
    return surface_key, config.optimizer, baked


class _SurfaceEngine:
    """One 2-D variable, one Keras optimizer and one compiled step, reset for each request."""

    def __init__(self, surface: Surface, config: TrainConfig):
        import keras
        import tensorflow as tf

        from lab.optimizers import build_optimizer

        self.surface = surface
        self.variable = keras.Variable(np.array(surface.start, dtype=np.float32), name="theta")
        self.optimizer = build_optimizer(config)
        self.optimizer.build([self.variable])
        self.slots = _slot_variables(self.optimizer)
        variable, optimizer = self.variable, self.optimizer

        # Compiling the step makes a 100-step path about five times faster than eager
        # calls; the update is still Keras's apply_gradients.
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = surface.function(variable[0], variable[1])
            gradient = tape.gradient(loss, variable.value)
            optimizer.apply_gradients([(gradient, variable)])
            return loss, gradient

        self.step = step

    def reset(self, config: TrainConfig) -> None:
        """Put the variable back at the start and give the optimizer a fresh optimizer's state."""
        from lab.optimizers import build_optimizer

        self.variable.assign(np.array(self.surface.start, dtype=np.float32))
        # A fresh optimizer, as Keras would build it for this request; its step counter, learning
        # rate and initial slot values (zeros, or AdaGrad's 0.1) are copied into the traced one.
        fresh = build_optimizer(config)
        fresh.build([self.variable])
        for target, source in zip(self.optimizer.variables, fresh.variables, strict=True):
            target.assign(source)


def run_trajectory(surface: Surface, optimizer_name: str, settings: OptimizerSettings, steps: int) -> Trajectory:
    """Move one 2-D keras.Variable with a real Keras optimizer for `steps` steps.

    Args:
        surface: the loss surface.
        optimizer_name: one of lab.config.OPTIMIZERS.
        settings: the shared hyperparameters.
        steps: number of updates.
    Returns:
        a Trajectory; it stops early if the point leaves the picture (|x| or |y| > 1000).
    """
    config = settings.config(optimizer_name)
    key = surface_engine_key(surface.key, config)
    # A borrowed engine is one request's alone, so no other request moves its variable meanwhile.
    with ENGINES.borrow(key, lambda: _SurfaceEngine(surface, config)) as engine:
        engine.reset(config)
        points, losses, gradients, state, escaped_at = _walk(engine, steps)
    losses.append(float(surface.function(*points[-1].astype(np.float64))) if escaped_at is None else float("nan"))
    return Trajectory(
        optimizer=optimizer_name, config=config, points=np.array(points, dtype=np.float64),
        losses=np.array(losses, dtype=np.float64), gradients=np.array(gradients, dtype=np.float64),
        state={name: np.array(values, dtype=np.float64) for name, values in state.items()}, escaped_at=escaped_at,
    )


def _walk(engine: _SurfaceEngine, steps: int) -> tuple:
    """Take up to `steps` compiled steps, recording the point, loss, gradient and slots after each."""
    points, losses, gradients = [engine.variable.numpy().copy()], [], []
    state = {name: [] for name in engine.slots}
    escaped_at = None
    for step in range(1, steps + 1):
        loss, gradient = engine.step()
        losses.append(float(loss))
        gradients.append(gradient.numpy())
        points.append(engine.variable.numpy().copy())
        for name, slot in engine.slots.items():
            state[name].append(slot.numpy().copy())
        if not np.all(np.isfinite(points[-1])) or np.max(np.abs(points[-1])) > ESCAPE_LIMIT:
            escaped_at = step
            break
    return points, losses, gradients, state, escaped_at


def run_trajectories(surface_key: str, optimizers, settings: OptimizerSettings, steps: int) -> dict:
    """Trajectories of several optimizers from the same start on one surface.

    Args:
        surface_key: a key of SURFACES.
        optimizers: optimizer names.
        settings: the shared hyperparameters.
        steps: updates per optimizer.
    Returns:
        {optimizer name: Trajectory}, in the order given.
    """
    surface = SURFACES[surface_key]
    return {name: run_trajectory(surface, name, settings, steps) for name in optimizers}


# ----------------------------------------------------------------------
# The race on Fashion-MNIST
# ----------------------------------------------------------------------
# Each optimizer's usual starting learning rate: the Keras defaults for RMSprop and
# Adam, 0.01 for AdaGrad (its Keras default 0.001 barely moves in two epochs), and
# the lecture's 0.01 for the SGD family.
RACE_LEARNING_RATES = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01,
                       "rmsprop": 0.001, "adam": 0.001}


def race_configs(optimizers, train_size: int = 3_000, epochs: int = 2, seed: int = 42,
                 learning_rates: Optional[dict] = None) -> dict:
    """One config per optimizer, identical except for the optimizer and its learning rate.

    Args:
        optimizers: optimizer names.
        train_size: training images.
        epochs: passes over them.
        seed: shared, so every run starts from the same weights and sees the same batches.
        learning_rates: optional {name: learning rate}, defaulting to RACE_LEARNING_RATES.
    Returns:
        {name: TrainConfig}.
    """
    rates = {**RACE_LEARNING_RATES, **(learning_rates or {})}
    base = TrainConfig(train_size=train_size, epochs=epochs, seed=seed, validation_size=2_000, log_every=10)
    return {name: dataclasses.replace(base, optimizer=name, learning_rate=rates[name]) for name in optimizers}


def race(configs: dict, dataset, on_start: Optional[Callable[[str, int], None]] = None,
         trainer: Optional[Callable] = None) -> dict:
    """Train the lecture's model once per config (the race).

    Args:
        configs: from `race_configs`.
        dataset: the shared Dataset.
        on_start: optional callback (name, index) before each run, for a progress display.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default
            (pages pass one that goes through the server's training queue).
    Returns:
        {name: TrainResult}.
    """
    if trainer is None:
        from lab.training import train as trainer

    results = {}
    for index, (name, config) in enumerate(configs.items()):
        if on_start is not None:
            on_start(name, index)
        results[name] = trainer(config, dataset)
    return results


# ----------------------------------------------------------------------
# AdaGrad's effective learning rate on the network
# ----------------------------------------------------------------------
@dataclass
class EffectiveRateLog:
    """Per-layer median effective learning rate eta / sqrt(s + eps) during training."""

    optimizer: str
    learning_rate: float
    layer_names: list
    steps: list  # the optimizer's iteration count at each record
    rates: list  # one list per record: the median effective rate of each layer
    val_accuracy: list  # per epoch

    def reference_index(self) -> int:
        """Index of the first record at or after REFERENCE_STEP.

        RMSprop's and Adam's s start at zero, so their first steps have huge
        effective rates; comparing from a few steps in is fair to all of them.

        Returns:
            an index into steps and rates.
        """
        return next((i for i, step in enumerate(self.steps) if step >= REFERENCE_STEP), 0)

    def relative(self, layer: str) -> list:
        """One layer's effective rate at each record, divided by its rate at the reference step.

        Args:
            layer: a name in layer_names.
        Returns:
            list of ratios, 1.0 at the reference step.
        """
        index = self.layer_names.index(layer)
        reference = self.rates[self.reference_index()][index]
        return [rates[index] / reference for rates in self.rates]

    def ratio(self, layer: str) -> float:
        """Last recorded effective rate over the one at the reference step, for one layer.

        Args:
            layer: a name in layer_names.
        Returns:
            the ratio (below 1 means the rate shrank).
        """
        return self.relative(layer)[-1]


def _effective_rate_recorder(every: int):
    import keras

    class Recorder(keras.callbacks.Callback):
        """Reads the optimizer's squared-gradient slots every few steps (the Keras callback API)."""

        def __init__(self):
            super().__init__()
            self.steps, self.rates = [], []

        def on_train_batch_end(self, batch, logs=None):
            optimizer = self.model.optimizer
            iteration = int(optimizer.iterations.numpy())
            if iteration % every and iteration != 1:
                return
            learning_rate = float(optimizer.learning_rate.numpy())
            slots = {variable.name: variable for variable in optimizer.variables}
            per_layer = []
            for layer in self.model.layers:
                if not layer.trainable_weights:
                    continue
                squares = np.concatenate([_slot_for(slots, weight).numpy().ravel() for weight in layer.trainable_weights])
                per_layer.append(float(np.median(learning_rate / np.sqrt(squares + optimizer.epsilon))))
            self.steps.append(iteration)
            self.rates.append(per_layer)

    return Recorder()


def _slot_for(slots: dict, weight):
    # The squared-gradient slot of a weight: AdaGrad's accumulator or RMSprop/Adam's
    # velocity. Keras names a slot after its weight's path with "/" turned into "_".
    for suffix in ("_accumulator", "_velocity"):
        name = weight.path.replace("/", "_") + suffix
        if name in slots:
            return slots[name]
    raise KeyError(f"no squared-gradient slot for {weight.path}")


class _FitEngine:
    """A compiled lecture model whose model.fit graphs are reused; reset to a new run's weights each time."""

    def __init__(self, config: TrainConfig, num_classes: int):
        from lab.models import build_model
        from lab.optimizers import build_optimizer

        self.model = build_model(config, num_classes)
        self.model.compile(optimizer=build_optimizer(config), loss="sparse_categorical_crossentropy",
                           metrics=["accuracy"])
        self.model.optimizer.build(self.model.trainable_variables)

    def reset(self, config: TrainConfig, num_classes: int) -> None:
        """Give the model a new run's seeded initial weights and the optimizer a fresh state."""
        from lab.models import build_model
        from lab.optimizers import build_optimizer

        fresh_model = build_model(config, num_classes)
        self.model.set_weights(fresh_model.get_weights())
        fresh_optimizer = build_optimizer(config)
        fresh_optimizer.build(self.model.trainable_variables)
        for target, source in zip(self.model.optimizer.variables, fresh_optimizer.variables, strict=True):
            target.assign(source)
        self.model.stop_training = False


# model.fit traces a training and a validation graph per model (about 9 MB that
# TensorFlow never frees), so runs share a model per optimizer and its baked
# hyperparameters; the learning rate is a variable and is reset per run.
def _fit_engine_key(config: TrainConfig, num_classes: int) -> tuple:
    return ("fit", num_classes, config.hidden_units, config.activation) + surface_engine_key("network", config)[1:]


def effective_rate_experiment(config: TrainConfig, dataset, every: int = 10) -> EffectiveRateLog:
    """Train the lecture's model with model.fit and record the effective learning rate per layer.

    Args:
        config: an AdaGrad or RMSprop config (its train_size, epochs and seed are used).
        dataset: the shared Dataset.
        every: record every this many steps.
    Returns:
        an EffectiveRateLog.
    """
    from lab.data import split_indices

    # Only for these two is eta / sqrt(s + epsilon) the whole per-coordinate rate; Adam's also has bias corrections.
    if config.optimizer not in ("adagrad", "rmsprop"):
        raise ValueError(f"the effective learning rate is recorded for adagrad or rmsprop, got {config.optimizer}")
    train_index, validation_index = split_indices(dataset.y_train, config.train_size, config.validation_size,
                                                  config.seed)
    recorder = _effective_rate_recorder(every)
    # Shuffling in the index order keeps the run reproducible without a global seed.
    order = np.random.default_rng([config.seed, 3]).permutation(train_index)
    with ENGINES.borrow(_fit_engine_key(config, dataset.num_classes),
                        lambda: _FitEngine(config, dataset.num_classes)) as engine:
        engine.reset(config, dataset.num_classes)
        history = engine.model.fit(
            dataset.x_train[order], dataset.y_train[order], batch_size=config.batch_size, epochs=config.epochs,
            validation_data=(dataset.x_train[validation_index], dataset.y_train[validation_index]),
            callbacks=[recorder], shuffle=False, verbose=0,
        )
        names = [layer.name for layer in engine.model.layers if layer.trainable_weights]
    return EffectiveRateLog(config.optimizer, config.learning_rate, names, recorder.steps, recorder.rates,
                            history.history["val_accuracy"])


def adagrad_config(learning_rate: float = 0.01, epochs: int = 3, optimizer: str = "adagrad",
                   train_size: int = 2_000, seed: int = 42) -> TrainConfig:
    """The lecture's model on a small subset for the effective-learning-rate experiment.

    Args:
        learning_rate: the optimizer's learning rate.
        epochs: passes over the images.
        optimizer: "adagrad" or "rmsprop" (or "adam").
        train_size: training images.
        seed: the same initial weights for every optimizer.
    Returns:
        a TrainConfig.
    """
    return TrainConfig(optimizer=optimizer, learning_rate=learning_rate, epochs=epochs, train_size=train_size,
                       seed=seed, validation_size=1_000)


def adagrad_comparison(dataset, learning_rate: float = 0.01, epochs: int = 3, compare: bool = True) -> list:
    """AdaGrad's effective learning rate during training, and optionally RMSprop's beside it.

    Args:
        dataset: the shared Dataset.
        learning_rate: AdaGrad's learning rate (RMSprop uses its Keras default 0.001).
        epochs: passes over 2,000 images.
        compare: also train RMSprop from the same initial weights.
    Returns:
        a list of EffectiveRateLog, AdaGrad first.
    """
    configs = [adagrad_config(learning_rate, epochs)]
    if compare:
        configs.append(adagrad_config(RACE_LEARNING_RATES["rmsprop"], epochs, optimizer="rmsprop"))
    return [effective_rate_experiment(config, dataset) for config in configs]


def adagrad_code(logs: list) -> str:
    """Keras 3 code of the effective-learning-rate experiment.

    Args:
        logs: from `adagrad_comparison`.
    Returns:
        Python source as a string.
    """
    calls = {"adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam"}
    lines = [
        "import keras\nimport numpy as np\n",
        "class EffectiveRate(keras.callbacks.Callback):",
        "    def on_train_batch_end(self, batch, logs=None):",
        "        optimizer = self.model.optimizer",
        "        for slot in optimizer.variables:",
        "            if slot.name.endswith(('_accumulator', '_velocity')):  # AdaGrad's s / RMSprop's s",
        "                rate = float(optimizer.learning_rate) / np.sqrt(slot.numpy() + optimizer.epsilon)",
        "                print(int(optimizer.iterations), slot.name, np.median(rate))\n",
    ]
    for log in logs:
        lines += [
            "model = ...  # the lecture's model, built with the same seed each time",
            f"model.compile(optimizer=keras.optimizers.{calls[log.optimizer]}({float_literal(log.learning_rate)}), "
            "loss='sparse_categorical_crossentropy', metrics=['accuracy'])",
            "model.fit(x_train, y_train, epochs=..., callbacks=[EffectiveRate()])\n",
        ]
    return "\n".join(lines)

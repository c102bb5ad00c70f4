"""Batch normalisation: fewer epochs to a target, more seconds per epoch, and two kinds of statistics.

* `compare_placements` trains the lecture's model with no batch norm, batch norm
  before and after each hidden activation, from the same seed, with
  `lab.training.train`: validation accuracy per epoch and wall time per epoch.
* `time_per_step` measures the cost of one training step of each variant
  carefully (warm graphs, interleaved repeats, best of several), because epoch
  times of a short run on a shared server are noisy.
* `batch_statistics` trains a batch-norm model, then reads the first
  BatchNormalization layer's moving_mean and moving_variance and compares them
  with the statistics of one batch and of all training images.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.claims import Claim
from lab.config import TrainConfig
from lab.data import Dataset, split_indices
from lab.plots import COLORS, REFERENCE_COLOR, _LAYOUT, _figure, reference_line

PLACEMENTS = {"none": "no batch norm", "before": "batch norm before activation", "after": "batch norm after activation"}
SHORT_LABELS = {"none": "none", "before": "before activation", "after": "after activation"}
# Lecture model and optimizer (SGD, lr 0.01, batch 32) on 5,000 images: small enough for seconds,
# long enough (157 steps per epoch) for batch norm's moving statistics to settle.
BASE_FIELDS = dict(train_size=5_000, validation_size=1_000, epochs=4, batch_size=32, learning_rate=0.01, seed=42,
                   log_every=25)
STATS_FIELDS = dict(train_size=5_000, validation_size=1_000, epochs=2, batch_size=32, learning_rate=0.01, seed=42,
                    batch_norm="before")
BATCH_ONE_IMAGES = 200  # test images predicted one at a time in training mode
MOVED_TOLERANCE = 1e-3  # a gamma or beta this far from its start value (1 or 0) has been changed by training


def base_config(**overrides) -> TrainConfig:
    """The page's small setup (BASE_FIELDS) with some fields changed.

    Args:
        **overrides: TrainConfig fields to change.
    Returns:
        a validated TrainConfig.
    """
    return TrainConfig(**{**BASE_FIELDS, **overrides})


# ----------------------------------------------------------------------
# None, before, after
# ----------------------------------------------------------------------
def compare_placements(
    dataset: Dataset,
    placements: Sequence[str] = tuple(PLACEMENTS),
    config: Optional[TrainConfig] = None,
    on_run: Optional[Callable[[int, str], None]] = None,
    trainer: Optional[Callable] = None,
) -> dict[str, object]:
    """Train the same seeded model once per batch-norm placement.

    Args:
        dataset: the shared dataset.
        placements: "none", "before" and/or "after".
        config: the shared settings (defaults to base_config()).
        on_run: called with (index, placement) before each run.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default (pages pass the
            server's shared queue and result cache).
    Returns:
        dict placement -> lab.training.TrainResult.
    """
    if trainer is None:
        from lab.training import train as trainer  # TensorFlow loads here, not on import

    config = config or base_config()
    results = {}
    for index, placement in enumerate(placements):
        if on_run is not None:
            on_run(index, placement)
        results[placement] = trainer(replace(config, batch_norm=placement), dataset)
    return results


def epochs_to_target(history: dict, target: float) -> Optional[int]:
    """The first epoch whose validation accuracy reached the target.

    Args:
        history: a TrainResult history.
        target: validation accuracy to reach, e.g. 0.78.
    Returns:
        the epoch number (1-based), or None if it never did.
    """
    for epoch, accuracy in zip(history["epoch"], history["val_accuracy"]):
        if accuracy >= target:
            return int(epoch)
    return None


def time_per_step(
    dataset: Dataset, configs: dict[str, TrainConfig], steps: int = 100, repeats: int = 3, clock: str = "wall"
) -> dict[str, float]:
    """Seconds per training step of each config, measured fairly: warm graphs, interleaved, best of `repeats`.

    Each timing runs `steps` real SGD steps on one fixed batch inside one compiled graph, so Python
    overhead and data loading are excluded and only the model's own work is compared. Taking the
    best of interleaved repeats removes most of the noise other programs on the server add.

    Args:
        dataset: the shared dataset (one batch of its training images is used).
        configs: label -> config to time.
        steps: steps per timing.
        repeats: timings per config; the fastest counts.
        clock: "wall" (elapsed time, what a user waits) or "cpu" (processor time of this process, which
            other programs on the machine do not inflate; right only when nothing else runs in the process).
    Returns:
        dict label -> seconds per step.
    """
    from lab.engines import ENGINES
    from lab.topics.initialisation import graph_key

    now = {"wall": time.perf_counter, "cpu": time.process_time}[clock]
    best = {label: float("inf") for label in configs}
    with ExitStack() as stack:
        # Traced timing loops are kept and reused by later requests (see EnginePool).
        runners = {
            label: stack.enter_context(ENGINES.borrow(
                ("timing", dataset.name, config.batch_size, steps, graph_key(config, dataset.num_classes)),
                lambda config=config: _StepRunner(config, dataset, steps)))
            for label, config in configs.items()
        }
        for run in runners.values():
            run()  # trace (the first time) and warm up before anything is timed
        for _ in range(repeats):
            for label, run in runners.items():
                start = now()
                run()
                best[label] = min(best[label], (now() - start) / steps)
    return best


def relative_cost(step_seconds: dict[str, float]) -> dict[str, float]:
    """How much more a step costs than without batch norm, per placement.

    Args:
        step_seconds: placement -> seconds per step; must include "none".
    Returns:
        placement -> extra cost as a fraction (0.2 = 20% slower), for every placement except "none".
    """
    return {p: seconds / step_seconds["none"] - 1 for p, seconds in step_seconds.items() if p != "none"}


class _StepRunner:
    """`steps` training steps on one fixed batch in one traced graph; calling it runs them.

    Only the time matters, not the weights, so a runner is never reset between timings.
    """

    def __init__(self, config: TrainConfig, dataset: Dataset, steps: int):
        import tensorflow as tf

        from lab.models import build_loss, build_model
        from lab.optimizers import build_optimizer

        model, optimizer = build_model(config, dataset.num_classes), build_optimizer(config)
        loss_fn = build_loss(config)
        optimizer.build(model.trainable_variables)
        images = tf.constant(dataset.x_train[: config.batch_size])
        labels = tf.constant(dataset.y_train[: config.batch_size])

        @tf.function
        def run_steps():
            loss = tf.constant(0.0)
            for _ in tf.range(steps):
                with tf.GradientTape() as tape:
                    loss = loss_fn(labels, model(images, training=True))
                optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss

        self.run_steps = run_steps

    def __call__(self) -> None:
        self.run_steps().numpy()


def placement_table(results: dict, step_seconds: dict[str, float], target: float) -> pd.DataFrame:
    """One row per placement: epochs to the target, measured seconds per epoch, accuracy.

    Args:
        results: placement -> TrainResult.
        step_seconds: placement -> seconds per step (from time_per_step).
        target: the validation accuracy target.
    Returns:
        a pandas DataFrame.
    """
    rows = []
    for placement, result in results.items():
        epochs = epochs_to_target(result.history, target)
        seconds = step_seconds[placement] * result.steps_per_epoch
        rows.append({
            "model": PLACEMENTS[placement],
            # Text in every row: a column mixing numbers and text cannot be shown as a table.
            f"epochs to {target:.0%}": str(epochs) if epochs is not None else f"not within {result.config.epochs}",
            "s per epoch (timed)": seconds,
            "ms per step (timed)": step_seconds[placement] * 1_000,
            "s per epoch (run)": _later_epoch_seconds(result.history),  # after the first, which may trace the graph
            "validation accuracy": result.history["val_accuracy"][-1],
            "test accuracy": result.test_accuracy,
        })
    return pd.DataFrame(rows)


def _later_epoch_seconds(history: dict) -> float:
    # The first epoch may also trace the graph (the first run of its shape), so it says little about the cost of an epoch.
    later = history["seconds"][1:] or history["seconds"]
    return float(np.median(later))


def placement_color(placement: str) -> str:
    """One colour per placement, whichever placements a run compares (and while they arrive one by one).

    Args:
        placement: "none", "before" or "after".
    Returns:
        a hex colour.
    """
    return COLORS[list(PLACEMENTS).index(placement)]


def accuracy_per_epoch_figure(results: dict, target: float) -> go.Figure:
    """Validation accuracy per epoch for each placement, with the target as a dotted line.

    Args:
        results: placement -> TrainResult.
        target: the validation accuracy target.
    Returns:
        a Figure with one line per placement.
    """
    figure = _figure("Validation accuracy per epoch", "epoch", "validation accuracy")
    for placement, result in results.items():
        figure.add_trace(go.Scatter(
            x=result.history["epoch"], y=result.history["val_accuracy"], mode="lines+markers",
            name=PLACEMENTS[placement], line=dict(color=placement_color(placement), width=3),
        ))
    reference_line(figure, target, f"target {target:.0%}")
    figure.update_xaxes(dtick=1)
    return figure


def seconds_per_epoch_figure(results: dict, step_seconds: dict[str, float]) -> go.Figure:
    """Bars of the timed seconds per epoch (seconds per step times steps per epoch) for each placement.

    Args:
        results: placement -> TrainResult (for steps per epoch).
        step_seconds: placement -> seconds per step.
    Returns:
        a Figure with one Bar trace.
    """
    figure = _figure("Cost of one epoch", "batch norm", "seconds per epoch (timed)")
    placements = list(results)
    seconds = [step_seconds[p] * results[p].steps_per_epoch for p in placements]
    figure.add_trace(go.Bar(
        x=[SHORT_LABELS[p] for p in placements], y=seconds, marker_color=[placement_color(p) for p in placements],
        text=[f"{value:.2f} s" for value in seconds], textposition="outside", name="seconds per epoch",
    ))
    figure.update_yaxes(rangemode="tozero")
    return figure


# ----------------------------------------------------------------------
# Batch statistics against moving statistics
# ----------------------------------------------------------------------
@dataclass
class BatchStatistics:
    """What the first BatchNormalization layer uses in training and at test time."""

    steps: int  # training steps taken, each updating the moving averages once
    momentum: float  # the layer's momentum (Keras default 0.99)
    batch_size: int
    batch_mean: np.ndarray  # per unit, over one batch of training images
    batch_variance: np.ndarray
    population_mean: np.ndarray  # per unit, over all training images
    population_variance: np.ndarray
    moving_mean: np.ndarray  # what the layer learnt and uses at test time
    moving_variance: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    epsilon: float
    inference_matches_moving: float  # largest |layer(training=False) - formula with moving stats|
    training_matches_batch: float  # largest |layer(training=True) - formula with batch stats|
    test_accuracy_inference: float  # whole test set, training=False
    test_accuracy_batches: float  # whole test set in batches, training=True (batch statistics)
    test_accuracy_batch_of_one: float  # BATCH_ONE_IMAGES test images one at a time, training=True
    same_prediction_batch_of_one: bool  # whether every single-image prediction was the same class
    trainable: tuple = ()  # the layer's weights the optimizer trains (Keras: gamma, beta)
    non_trainable: tuple = ()  # the weights only the moving averages update (moving_mean, moving_variance)
    config: Optional[TrainConfig] = None  # the run's settings

    @property
    def is_default(self) -> bool:
        """Whether these are the page's default statistics (STATS_FIELDS), which its claims are about.

        Returns:
            True for the default run.
        """
        return self.config == TrainConfig(**STATS_FIELDS)

    def moved_share(self, tolerance: float = MOVED_TOLERANCE) -> dict[str, float]:
        """Share of units whose gamma left 1 and whose beta left 0 by more than `tolerance`.

        Args:
            tolerance: the smallest change that counts as moved.
        Returns:
            {"gamma": share, "beta": share}, each in [0, 1].
        """
        return {"gamma": float(np.mean(np.abs(self.gamma - 1) > tolerance)),
                "beta": float(np.mean(np.abs(self.beta) > tolerance))}

    @property
    def leftover(self) -> float:
        """Share of the initial moving statistics (mean 0, variance 1) still in the averages: momentum ** steps.

        Returns:
            a number in (0, 1].
        """
        return float(self.momentum**self.steps)

    def table(self, units: int = 8) -> pd.DataFrame:
        """The first units' statistics side by side.

        Args:
            units: how many units to list.
        Returns:
            DataFrame with one row per unit.
        """
        return pd.DataFrame({
            "unit": np.arange(1, units + 1),
            "batch mean": self.batch_mean[:units], "moving mean": self.moving_mean[:units],
            "all-images mean": self.population_mean[:units],
            "batch variance": self.batch_variance[:units], "moving variance": self.moving_variance[:units],
            "all-images variance": self.population_variance[:units],
        })


def batch_statistics(
    dataset: Dataset, config: Optional[TrainConfig] = None, on_epoch: Optional[Callable[[int], None]] = None
) -> BatchStatistics:
    """Train a batch-norm model, then compare its first BN layer's moving statistics with real batch statistics.

    Args:
        dataset: the shared dataset.
        config: a config with batch_norm "before" or "after" (defaults to STATS_FIELDS).
        on_epoch: called after each training epoch.
    Returns:
        a BatchStatistics.
    """
    import keras

    from lab.topics.initialisation import train_small_model

    config = config or TrainConfig(**STATS_FIELDS)
    if config.batch_norm == "none":
        raise ValueError("batch_statistics needs a model with batch norm (before or after)")
    run = train_small_model(config, dataset, on_epoch)
    model, layer = run.model, run.model.get_layer("batch_norm_1")
    # The BN layer's input: the Dense output (before BN) or the activation output (after BN).
    feeder = keras.Model(model.inputs[0], model.get_layer("hidden_1").output)
    train_index, _ = split_indices(dataset.y_train, config.train_size, config.validation_size, config.seed)
    batch = train_index[np.random.default_rng([config.seed, 4]).permutation(len(train_index))[: config.batch_size]]
    inputs = keras.ops.convert_to_numpy(feeder(dataset.x_train[batch])).astype(np.float64)
    everything = np.concatenate([keras.ops.convert_to_numpy(feeder(dataset.x_train[train_index[i : i + 2_000]]))
                                 for i in range(0, len(train_index), 2_000)]).astype(np.float64)
    weights = {name: keras.ops.convert_to_numpy(getattr(layer, name)).astype(np.float64)
               for name in ("moving_mean", "moving_variance", "gamma", "beta")}
    batch_mean, batch_variance = inputs.mean(axis=0), inputs.var(axis=0)

    def normalise(mean, variance):
        return weights["gamma"] * (inputs - mean) / np.sqrt(variance + layer.epsilon) + weights["beta"]

    # Everything measured in inference mode comes first; calls with training=True update the moving
    # statistics, so they run inside a block that restores them afterwards.
    inference = keras.ops.convert_to_numpy(layer(inputs.astype(np.float32), training=False))
    accuracy_inference = _accuracy(model, dataset.x_test, dataset.y_test, training=False, batch=2_000)
    with _frozen_moving_statistics(model):
        training = keras.ops.convert_to_numpy(layer(inputs.astype(np.float32), training=True))
        accuracy_batches = _accuracy(model, dataset.x_test, dataset.y_test, training=True, batch=256)
        single = _single_image_predictions(model, dataset.x_test[:BATCH_ONE_IMAGES])
    return BatchStatistics(
        steps=run.steps, momentum=float(layer.momentum), batch_size=config.batch_size,
        batch_mean=batch_mean, batch_variance=batch_variance,
        population_mean=everything.mean(axis=0), population_variance=everything.var(axis=0),
        moving_mean=weights["moving_mean"], moving_variance=weights["moving_variance"],
        gamma=weights["gamma"], beta=weights["beta"], epsilon=float(layer.epsilon),
        inference_matches_moving=float(np.abs(inference - normalise(weights["moving_mean"], weights["moving_variance"])).max()),
        training_matches_batch=float(np.abs(training - normalise(batch_mean, batch_variance)).max()),
        test_accuracy_inference=accuracy_inference,
        test_accuracy_batches=accuracy_batches,
        test_accuracy_batch_of_one=float(np.mean(single == dataset.y_test[:BATCH_ONE_IMAGES])),
        same_prediction_batch_of_one=bool(np.all(single == single[0])),
        trainable=tuple(weight.name for weight in layer.trainable_weights),
        non_trainable=tuple(weight.name for weight in layer.non_trainable_weights),
        config=config,
    )


class _frozen_moving_statistics:
    """Restore every BN layer's moving statistics on exit: a call with training=True updates them."""

    def __init__(self, model):
        import keras

        self.layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]

    def __enter__(self):
        self.saved = [(l, l.moving_mean.numpy().copy(), l.moving_variance.numpy().copy()) for l in self.layers]
        return self

    def __exit__(self, *exc):
        for layer, mean, variance in self.saved:
            layer.moving_mean.assign(mean)
            layer.moving_variance.assign(variance)
        return False


def _accuracy(model, images: np.ndarray, labels: np.ndarray, training: bool, batch: int) -> float:
    import keras

    predicted = np.concatenate([
        np.argmax(keras.ops.convert_to_numpy(model(images[i : i + batch], training=training)), axis=1)
        for i in range(0, len(images), batch)
    ])
    return float(np.mean(predicted == labels))


def _single_image_predictions(model, images: np.ndarray) -> np.ndarray:
    """Predict each image alone in training mode: its 'batch statistics' are its own values.

    Eager on purpose: a traced function per request would never give its memory back.
    """
    import keras

    return np.array([int(np.argmax(keras.ops.convert_to_numpy(model(images[i : i + 1], training=True))))
                     for i in range(len(images))])


def statistics_figure(stats: BatchStatistics) -> go.Figure:
    """Per unit: moving statistics (y) against one batch's and all images' statistics (x), mean and variance.

    Args:
        stats: a BatchStatistics.
    Returns:
        a Figure with two panels (mean, variance), each with the diagonal y = x.
    """
    figure = make_subplots(rows=1, cols=2, subplot_titles=("mean per unit", "variance per unit"))
    panels = (
        (1, stats.batch_mean, stats.population_mean, stats.moving_mean),
        (2, stats.batch_variance, stats.population_variance, stats.moving_variance),
    )
    for column, batch, population, moving in panels:
        first = column == 1
        figure.add_trace(go.Scatter(
            x=batch, y=moving, mode="markers", name=f"one batch of {stats.batch_size}",
            marker=dict(color=COLORS[1], size=6, opacity=0.6), showlegend=first, legendgroup="batch",
        ), row=1, col=column)
        figure.add_trace(go.Scatter(
            x=population, y=moving, mode="markers", name="all training images",
            marker=dict(color=COLORS[0], size=6, opacity=0.6), showlegend=first, legendgroup="all",
        ), row=1, col=column)
        low = float(min(batch.min(), population.min(), moving.min()))
        high = float(max(batch.max(), population.max(), moving.max()))
        figure.add_trace(go.Scatter(
            x=[low, high], y=[low, high], mode="lines", name="moving = measured",
            line=dict(color="gray", dash="dot"), showlegend=first, legendgroup="diagonal",
        ), row=1, col=column)
        figure.update_xaxes(title_text="measured on the data", row=1, col=column)
        figure.update_yaxes(title_text="moving (used at test time)", row=1, col=column)
    figure.update_layout(title="Moving statistics against measured statistics (first BN layer)", **_LAYOUT)
    return figure


def scale_shift_figure(stats: BatchStatistics) -> go.Figure:
    """Histograms of the first BN layer's learned gamma and beta, with their start values 1 and 0 marked.

    Args:
        stats: a BatchStatistics.
    Returns:
        a Figure with two panels (gamma, beta).
    """
    figure = make_subplots(rows=1, cols=2, subplot_titles=("γ (scale) per unit", "β (shift) per unit"))
    for column, (values, start, color) in enumerate(((stats.gamma, 1.0, COLORS[0]), (stats.beta, 0.0, COLORS[2])), 1):
        figure.add_trace(go.Histogram(x=values, nbinsx=40, marker_color=color, name="after training",
                                      showlegend=column == 1), row=1, col=column)
        figure.add_vline(x=start, line=dict(color=REFERENCE_COLOR, dash="dot", width=2), row=1, col=column)
        figure.update_xaxes(title_text="value after training (dotted: start value)", row=1, col=column)
        figure.update_yaxes(title_text="units", row=1, col=column)
    figure.update_layout(title=f"γ and β are trained: {stats.steps} steps moved them from 1 and 0", **_LAYOUT)
    return figure


def statistics_code() -> str:
    """Keras 3 code that reads a BatchNormalization layer's statistics and compares them with a batch's.

    Returns:
        Python source as a string.
    """
    return '''import keras
import numpy as np

# model: the trained model with BatchNormalization before each activation (see the code above)
bn = model.get_layer("batch_norm_1")
dense_output = keras.Model(model.inputs[0], model.get_layer("hidden_1").output)

batch = dense_output(x_train[:32]).numpy()            # what the BN layer sees during training
print("batch mean     ", batch.mean(axis=0)[:5])
print("moving mean    ", bn.moving_mean.numpy()[:5])   # what it uses at test time
print("batch variance ", batch.var(axis=0)[:5])
print("moving variance", bn.moving_variance.numpy()[:5])

# Test time uses the moving statistics (training=False is the default of predict/evaluate):
test_accuracy = np.mean(model.predict(x_test).argmax(axis=1) == y_test)
'''


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
DEFAULT_TARGET = 0.78  # the page's default target validation accuracy


def claims_experiment(dataset: Dataset, trainer: Optional[Callable] = None) -> dict:
    """The page's two default experiments: no batch norm and batch norm before (BASE_FIELDS), and the statistics.

    Args:
        dataset: the shared dataset.
        trainer: train(config, dataset) -> TrainResult for the placements; lab.training.train by default (the
            statistics experiment trains its own small model).
    Returns:
        {"placements": {"none", "before"} -> TrainResult, "stats": BatchStatistics}.
    """
    # Only the two placements the claims compare: every placement's run is seeded on its own, so leaving out
    # "after" changes neither of them, and saves a third of the time.
    return {"placements": compare_placements(dataset, ("none", "before"), trainer=trainer),
            "stats": batch_statistics(dataset, TrainConfig(**STATS_FIELDS))}


def is_default_comparison(results: dict) -> bool:
    """Whether the placements ran at the page's defaults (every placement, base_config()), so PLACEMENT_CLAIMS apply.

    Args:
        results: from `compare_placements`.
    Returns:
        True for the default comparison.
    """
    return (list(results) == list(PLACEMENTS)
            and all(result.config == base_config(batch_norm=placement) for placement, result in results.items()))


def _scale_and_shift_are_trainable(runs: dict) -> bool:
    stats = runs["stats"]
    return set(stats.trainable) == {"gamma", "beta"} and set(stats.non_trainable) == {"moving_mean", "moving_variance"}


def _training_moved_most_units(runs: dict) -> bool:
    return min(runs["stats"].moved_share().values()) > 0.5


def _fewer_epochs_with_batch_norm(runs: dict) -> bool:
    # "Fewer" in whole epochs: batch norm before the activation reaches the target by epoch 2, the plain model
    # not within the run's 4 epochs.
    reached = {placement: epochs_to_target(result.history, DEFAULT_TARGET)
               for placement, result in runs["placements"].items()}
    return reached["before"] is not None and reached["before"] <= 2 and reached["none"] is None


def _test_time_uses_moving_statistics(runs: dict) -> bool:
    stats = runs["stats"]
    return stats.inference_matches_moving < 1e-4 and stats.training_matches_batch < 1e-4


HEADLINE = Claim(
    "Batch normalisation makes each epoch count for more (fewer epochs to a target accuracy), while every step "
    "does more work. It normalises with batch statistics in training and with moving statistics at test time.",
    lambda runs: _fewer_epochs_with_batch_norm(runs) and _test_time_uses_moving_statistics(runs))
PLACEMENT_CLAIMS = (
    Claim("With batch norm before the activation the model reaches 78% validation accuracy by epoch 2; without it, "
          "not within 4 epochs.", _fewer_epochs_with_batch_norm),
)
STATS_CLAIMS = (
    Claim("γ and β are trainable weights: the optimizer updates them from the loss's gradient like any weight, "
          "while μ̂ and σ̂² are not trained, only averaged.", _scale_and_shift_are_trainable),
    Claim("Training moves them: after these two epochs more than half of the units have a γ that is no longer 1 "
          "and a β that is no longer 0. The layer can so undo the normalisation where that helps the loss: the "
          "slides' \"reverse linear scaling\".", _training_moved_most_units),
)
CLAIMS = (HEADLINE,) + PLACEMENT_CLAIMS + STATS_CLAIMS

"""SGD and the learning rate: too small crawls, too large diverges, and a range test finds the middle.

Two experiments on the lecture's real model and real Fashion-MNIST:

* `compare_learning_rates` trains the same seeded model once per learning rate
  with `lab.training.train`, so every run starts from identical weights and
  sees identical batches; only the step size differs.
* `range_test` is the learning-rate range test (Smith 2017; Geron's book): one
  model, one short run, the learning rate growing exponentially every step
  from tiny to huge, recording the batch loss at each rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lab.claims import Claim
from lab.config import MAX_TRAIN_IMAGES, TrainConfig, float_literal
from lab.data import Dataset, split_indices
from lab.models import lecture_model_code
from lab.plots import COLORS, _figure, per_step_losses, readable_log_ticks, setting_color

# Learning rates a student can pick, spaced by about 3x so that the whole range
# from "crawls" to "diverges" fits on one slider.
RATE_OPTIONS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
DEFAULT_RATES = (1e-4, 0.1, 1.0)
# A run "crawls" when its loss fell by less than this share of its starting value.
CRAWL_FRACTION = 0.10
FULL_TRAINING_IMAGES = MAX_TRAIN_IMAGES - 5_000  # the slides' training set after 5k validation
# The page's small, fast setup: 2,000 images, 2 epochs, batch 32, the loss logged at every step
# so that even a run that diverges within a few steps leaves a curve.
BASE_FIELDS = dict(train_size=2_000, validation_size=1_000, epochs=2, batch_size=32, log_every=1, seed=42)


def base_config(**overrides) -> TrainConfig:
    """The page's small setup (BASE_FIELDS) with some fields changed.

    Args:
        **overrides: TrainConfig fields to change.
    Returns:
        a validated TrainConfig.
    """
    return TrainConfig(**{**BASE_FIELDS, **overrides})


# ----------------------------------------------------------------------
# Epochs and steps
# ----------------------------------------------------------------------
def epoch_and_steps(train_size: int, batch_size: int, epochs: int = 1) -> dict:
    """What one epoch and one step are for a given training-set size and batch size.

    Args:
        train_size: images in the training set.
        batch_size: images per gradient step.
        epochs: passes over the training set.
    Returns:
        dict with steps_per_epoch, full_batches, last_batch (size of the final, smaller batch; 0 if none),
        total_steps and updates_per_image (= epochs: each image contributes to one step per epoch).
    """
    full_batches, last_batch = divmod(train_size, batch_size)
    steps_per_epoch = math.ceil(train_size / batch_size)
    return {
        "train_size": train_size,
        "batch_size": batch_size,
        "steps_per_epoch": steps_per_epoch,
        "full_batches": full_batches,
        "last_batch": last_batch,
        "epochs": epochs,
        "total_steps": steps_per_epoch * epochs,
        "updates_per_image": epochs,
    }


# ----------------------------------------------------------------------
# Too small, good, too large
# ----------------------------------------------------------------------
def compare_learning_rates(
    dataset: Dataset,
    rates: Sequence[float],
    config: Optional[TrainConfig] = None,
    on_run: Optional[Callable[[int, float], None]] = None,
    trainer: Optional[Callable] = None,
) -> dict[float, object]:
    """Train the same seeded model once per learning rate.

    Args:
        dataset: the shared dataset.
        rates: learning rates to try.
        config: the run to vary (defaults to `base_config()`); only learning_rate changes.
        on_run: called with (index, rate) before each run, for a progress bar.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default (pages pass the
            server's shared queue and result cache).
    Returns:
        dict mapping each rate to its lab.training.TrainResult, in ascending order of rate.
    """
    if trainer is None:
        from lab.training import train as trainer  # TensorFlow loads here, not on import

    config = config or base_config()
    results = {}
    for index, rate in enumerate(sorted(set(rates))):
        if on_run is not None:
            on_run(index, rate)
        results[rate] = trainer(replace(config, learning_rate=float(rate)), dataset)
    return results


def start_loss(result) -> float:
    """The loss at the start of a run: step 0's batch loss, at the initial weights.

    Args:
        result: a TrainResult.
    Returns:
        the loss as a float (NaN when no step was recorded).
    """
    _, losses = per_step_losses(result.first_steps, result.step_log)
    return float(losses[0]) if losses and losses[0] is not None else float("nan")


def end_loss(result) -> float:
    """The loss at the end of a run: the last step's batch loss, the end of its line in the chart.

    Args:
        result: a TrainResult.
    Returns:
        the loss as a float (NaN when nothing was recorded or the last loss was not finite).
    """
    _, losses = per_step_losses(result.first_steps, result.step_log)
    return float(losses[-1]) if losses and losses[-1] is not None else float("nan")


def verdict(result) -> str:
    """Classify a run as "diverged", "crawls" or "learns".

    Args:
        result: a TrainResult.
    Returns:
        "diverged" when the trainer stopped it for divergence; "crawls" when its loss fell by less
        than CRAWL_FRACTION of the start; otherwise "learns".
    """
    if result.stop_reason == "diverged":
        return "diverged"
    start, end = start_loss(result), end_loss(result)
    if not (start - end) > CRAWL_FRACTION * start:
        return "crawls"
    return "learns"


# The summary table's columns as shown: the verdict and the numbers that make it first, so a 390 px phone shows them
# without scrolling sideways; the starting loss, the same for every rate (the same initial weights), goes last.
SUMMARY_COLUMN_ORDER = ("learning rate", "verdict", "last batch loss", "validation accuracy", "test accuracy",
                        "steps taken", "batch loss at step 0")


def summary_table(results: dict) -> pd.DataFrame:
    """One row per learning rate: verdict, loss at the start and end, validation and test accuracy.

    Args:
        results: rate -> TrainResult, from compare_learning_rates.
    Returns:
        a pandas DataFrame.
    """
    rows = []
    for rate, result in results.items():
        val = result.history["val_accuracy"]
        rows.append({
            "learning rate": f"{rate:g}",
            "verdict": verdict(result),
            "batch loss at step 0": start_loss(result),
            "last batch loss": end_loss(result),
            "validation accuracy": val[-1] if val else float("nan"),
            "test accuracy": result.test_accuracy,
            "steps taken": result.stop_step,
            "what happened": result.stop_detail,
        })
    return pd.DataFrame(rows)


def loss_per_step_figure(results: dict) -> go.Figure:
    """Training loss against step for each learning rate, on a log axis so both a crawl and a blow-up show.

    Args:
        results: rate -> TrainResult.
    Returns:
        a Figure with one line per rate; a diverged run ends in a large cross.
    """
    figure = _figure("Batch loss per step", "step", "batch loss (log scale)", log_y=True)
    for rate, result in results.items():
        color = setting_color("learning_rate", rate)  # the rate's colour on every page
        # Each step's own batch loss from step 0, the quantity and numbering of the table's
        # "what happened" ("The batch loss rose to 24.4 at step 2"), so the text's number is on the line.
        steps, losses = per_step_losses(result.first_steps, result.step_log)
        label = f"lr={rate:g} ({verdict(result)})"
        figure.add_trace(go.Scatter(x=steps, y=losses, mode="lines", name=label, line=dict(color=color, width=3)))
        if result.diverged_at is not None and steps:
            figure.add_trace(go.Scatter(
                x=[steps[-1]], y=[losses[-1]], mode="markers", name=f"lr={rate:g} stopped: diverged",
                marker=dict(symbol="x", size=16, color=color), showlegend=False,
            ))
    return readable_log_ticks(figure)


# ----------------------------------------------------------------------
# The range test
# ----------------------------------------------------------------------
@dataclass
class RangeTest:
    """The outcome of one learning-rate range test."""

    learning_rates: np.ndarray  # the rate used at each step (exponentially growing)
    losses: np.ndarray  # the batch loss at each step
    smoothed: np.ndarray  # centred rolling mean of the losses
    good_low: float  # the marked good region: from where the smoothed loss clearly falls...
    good_high: float  # ...to where it is lowest
    best_rate: float  # lowest point of the smoothed loss; training there for long is already too fast
    stopped_early: bool  # the loss exploded before the last planned step
    batch_size: int

    @property
    def suggested_rate(self) -> float:
        """A rate to train with: the geometric middle of the good region, safely below the lowest point.

        Returns:
            a learning rate.
        """
        return float(math.sqrt(self.good_low * self.good_high))


def range_test(
    dataset: Dataset,
    config: Optional[TrainConfig] = None,
    min_rate: float = 1e-5,
    max_rate: float = 10.0,
    steps: int = 300,
) -> RangeTest:
    """Run a learning-rate range test: one model, the rate multiplied by a constant factor every step.

    Args:
        dataset: the shared dataset.
        config: model and data settings (defaults to `base_config(train_size=10_000)`); its
            learning_rate is ignored.
        min_rate: the rate at the first step.
        max_rate: the rate the last step would reach.
        steps: planned number of steps; the test stops early once the loss explodes.
    Returns:
        a RangeTest.
    """
    from lab.engines import ENGINES
    from lab.topics.initialisation import graph_key

    if not 0 < min_rate < max_rate:
        raise ValueError(f"need 0 < min_rate < max_rate, got {min_rate} and {max_rate}")
    config = config or base_config(train_size=10_000)
    growth = (max_rate / min_rate) ** (1.0 / max(1, steps - 1))
    classes = dataset.num_classes
    batches = _batches(dataset, config, steps)
    rates, losses = [], []
    # The traced step is kept and reused by later range tests (see EnginePool).
    with ENGINES.borrow(("range test", graph_key(config, classes)), lambda: _RangeEngine(config, classes)) as engine:
        engine.reset(config, classes, min_rate, growth)
        for index, batch in enumerate(batches):
            rates.append(min_rate * growth**index)
            losses.append(float(engine.step(dataset.x_train[batch], dataset.y_train[batch])))
            if _exploded(losses):
                break
    return _analyse(np.array(rates), np.array(losses), stopped_early=len(losses) < steps, batch_size=config.batch_size)


class _RangeEngine:
    """A model, plain SGD with an exponentially growing rate, and a traced step, reset for each test."""

    def __init__(self, config: TrainConfig, num_classes: int):
        import keras
        import tensorflow as tf

        from lab.models import build_loss, build_model

        self.model = model = build_model(config, num_classes)
        # The first rate and the growth live in variables, so a new test changes them without a retrace.
        self.first_rate = keras.Variable(1e-5, dtype="float32", trainable=False)
        self.growth = keras.Variable(1.0, dtype="float32", trainable=False)
        # ExponentialDecay with a rate above 1 grows: first_rate * growth ** step, Keras's own schedule.
        schedule = keras.optimizers.schedules.ExponentialDecay(self.first_rate, decay_steps=1, decay_rate=self.growth)
        self.optimizer = optimizer = keras.optimizers.SGD(learning_rate=schedule)
        optimizer.build(model.trainable_variables)
        loss_fn = build_loss(config)

        @tf.function(reduce_retracing=True)
        def step(images, labels):
            with tf.GradientTape() as tape:
                loss = loss_fn(labels, model(images, training=True))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss

        self.step = step

    def reset(self, config: TrainConfig, num_classes: int, first_rate: float, growth: float) -> None:
        """Start a new test: the config's seeded weights, step 0, and this test's rates."""
        from lab.models import build_model

        self.model.set_weights(build_model(config, num_classes).get_weights())
        self.optimizer.iterations.assign(0)
        self.first_rate.assign(first_rate)
        self.growth.assign(growth)


def _batches(dataset: Dataset, config: TrainConfig, steps: int) -> list[np.ndarray]:
    # Seeded batches from the config's training subset, reshuffled whenever the subset runs out.
    train_index, _ = split_indices(dataset.y_train, config.train_size, config.validation_size, config.seed)
    batch = config.batch_size
    per_pass = max(1, len(train_index) // batch)
    batches = []
    for index in range(steps):
        epoch, position = divmod(index, per_pass)
        order = train_index[np.random.default_rng([config.seed, 3, epoch]).permutation(len(train_index))]
        batches.append(order[position * batch : (position + 1) * batch])
    return batches


def _exploded(losses: list[float]) -> bool:
    # Once the loss is four times its lowest value it never comes back; stop wasting steps.
    latest = losses[-1]
    return not math.isfinite(latest) or (len(losses) > 10 and latest > 4 * max(min(losses), 0.05))


def _analyse(rates: np.ndarray, losses: np.ndarray, stopped_early: bool, batch_size: int) -> RangeTest:
    """Smooth the losses and mark the good region.

    The region starts where the smoothed loss has fallen by a quarter of its total drop below the
    starting plateau (the rate now clearly helps) and ends at the lowest smoothed loss (beyond it the
    rate is so large that the loss turns back up).
    """
    finite = np.where(np.isfinite(losses), losses, np.nan)
    window = max(5, len(losses) // 10)
    smoothed = pd.Series(finite).rolling(window, center=True, min_periods=1).mean().to_numpy()
    lowest = int(np.nanargmin(smoothed))
    plateau = float(np.nanmedian(smoothed[: max(1, len(smoothed) // 10)]))
    threshold = plateau - 0.25 * (plateau - smoothed[lowest])
    low = int(np.flatnonzero(smoothed[: lowest + 1] <= threshold)[0])
    return RangeTest(
        learning_rates=rates, losses=losses, smoothed=smoothed,
        good_low=float(rates[low]), good_high=float(rates[lowest]), best_rate=float(rates[lowest]),
        stopped_early=stopped_early, batch_size=batch_size,
    )


def range_test_figure(test: RangeTest, marks: Sequence[float] = ()) -> go.Figure:
    """Loss against learning rate on log axes, with the good region shaded.

    Args:
        test: a RangeTest.
        marks: learning rates to draw as dotted vertical lines (e.g. the rates of the comparison).
    Returns:
        a Figure with the raw and smoothed loss and a shaded "good region" rectangle, named in the legend.
    """
    figure = _figure("Learning-rate range test", "learning rate (log scale)", "batch loss")
    figure.update_xaxes(type="log", dtick=1, exponentformat="power")
    figure.add_trace(go.Scatter(
        x=test.learning_rates, y=test.losses, mode="lines", name="batch loss",
        line=dict(color=COLORS[5], width=1.5),  # opaque: at 60% the sky blue faded into the white background
    ))
    figure.add_trace(go.Scatter(
        x=test.learning_rates, y=test.smoothed, mode="lines", name="smoothed loss", line=dict(color=COLORS[0], width=3),
    ))
    figure.add_vrect(x0=test.good_low, x1=test.good_high, fillcolor=COLORS[2], opacity=0.2, line_width=0)
    # Named in the legend, at the legend's size and with its range, rather than in small type above the plot.
    figure.add_trace(go.Scatter(
        x=[None], y=[None], mode="markers", name=f"good region: {test.good_low:.2g} to {test.good_high:.2g}",
        marker=dict(symbol="square", size=16, color=COLORS[2], opacity=0.4), hoverinfo="skip",
    ))
    # Annotations on a log axis take log10 of the position (shapes do not), so they are placed by hand.
    for rate in marks:  # each compared rate in its colour from the chart above
        color = setting_color("learning_rate", rate)
        figure.add_vline(x=rate, line=dict(color=color, dash="dot", width=2))
        figure.add_annotation(x=math.log10(rate), y=0.0, yref="paper", yanchor="bottom", xanchor="left",
                              text=f" lr={rate:g}", showarrow=False, font=dict(color=color))
    finite = test.losses[np.isfinite(test.losses)]
    if finite.size:
        # The exploding tail would squash the interesting part; show up to 1.5x the starting loss.
        figure.update_yaxes(range=[0, 1.5 * max(float(test.smoothed[0]), float(np.nanmin(finite)))])
    return readable_log_ticks(figure)


def range_test_code(min_rate: float, max_rate: float, steps: int, batch_size: int) -> str:
    """Keras 3 code of the range test as run here.

    Args:
        min_rate: starting rate.
        max_rate: final rate.
        steps: planned steps.
        batch_size: images per step.
    Returns:
        Python source as a string.
    """
    return f'''import keras
import numpy as np

(x_train, y_train), _ = keras.datasets.fashion_mnist.load_data()
{lecture_model_code()}steps = {steps}
growth = ({float_literal(max_rate)} / {float_literal(min_rate)}) ** (1 / (steps - 1))  # the rate's factor per step
schedule = keras.optimizers.schedules.ExponentialDecay({float_literal(min_rate)}, decay_steps=1, decay_rate=growth)
model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=schedule))

rng = np.random.default_rng(42)
rates, losses = [], []
for step in range(steps):
    batch = rng.choice(len(x_train), {batch_size}, replace=False)
    rates.append({float_literal(min_rate)} * growth ** step)
    losses.append(model.train_on_batch(x_train[batch], y_train[batch]))  # this batch's loss
    if not np.isfinite(losses[-1]) or (step > 10 and losses[-1] > 4 * min(losses)):
        break  # the loss has exploded; larger rates only get worse
# Plot losses against rates on a log x axis; pick a rate where the loss falls fastest.
'''


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
def claims_experiment(dataset: Dataset, trainer: Optional[Callable] = None) -> dict:
    """The page's default comparison (DEFAULT_RATES on BASE_FIELDS) and its default range test.

    Args:
        dataset: the shared dataset.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default.
    Returns:
        dict mapping each default rate to its TrainResult, and "range test" to the RangeTest.
    """
    runs: dict = dict(compare_learning_rates(dataset, DEFAULT_RATES, trainer=trainer))
    runs["range test"] = range_test(dataset)
    return runs


def _loss_drop(result) -> float:
    return 1 - end_loss(result) / start_loss(result)


def _first_epoch_share(result) -> float:
    # The share of the run's gain over chance (10%) in validation accuracy made in its first epoch (83% measured).
    accuracies = result.history["val_accuracy"]
    return (accuracies[0] - 0.1) / (accuracies[-1] - 0.1)


def _good_region_between(runs) -> bool:
    test = runs["range test"]
    return (verdict(runs[1e-4]) == "crawls" and verdict(runs[1.0]) == "diverged"
            and 1e-4 < test.good_low < test.good_high < 1.0)


HEADLINE = Claim(
    "A learning rate that is too large makes the loss explode, one that is too small makes it crawl, and in "
    "between there is a good region that a quick *range test* finds.",
    lambda runs: _good_region_between(runs) and verdict(runs[0.1]) == "learns")
CRAWLS = Claim(
    "Learning rate 1e-4 **crawls**: after the same steps its loss has fallen by less than 10% of its start, and "
    "validation accuracy is still below 30%.",
    lambda runs: verdict(runs[1e-4]) == "crawls" and runs[1e-4].history["val_accuracy"][-1] < 0.3)
LEARNS = Claim(
    "Learning rate 0.1 **learns**: its loss falls by more than half and validation accuracy passes 70%.",
    lambda runs: verdict(runs[0.1]) == "learns" and _loss_drop(runs[0.1]) > 0.5
    and runs[0.1].history["val_accuracy"][-1] > 0.7)
DIVERGES = Claim(
    "Learning rate 1.0 **diverges** within its first 10 steps.",
    lambda runs: verdict(runs[1.0]) == "diverged" and runs[1.0].stop_step < 10)
FIRST_EPOCH = Claim(
    "Learning rate 0.1 gets most of the way in its first epoch: more than three quarters of its final gain in "
    "validation accuracy over chance (10%).", lambda runs: _first_epoch_share(runs[0.1]) > 0.75)
GOOD_REGION = Claim(
    "The range test's good region (run with the default range-test settings) lies between the crawling 1e-4 and "
    "the diverging 1.0.", _good_region_between)
RUN_CLAIMS = (CRAWLS, LEARNS, DIVERGES, FIRST_EPOCH, GOOD_REGION)  # shown under the comparison's results
CLAIMS = (HEADLINE,) + RUN_CLAIMS

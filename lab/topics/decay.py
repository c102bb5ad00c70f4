"""Learning-rate decay: lr / (1 + decay * t), what Keras 3 does with the slides' `decay=`, and its effect.

* `schedule_values` evaluates Keras's own `InverseTimeDecay` at every step.
* `ignored_decay_check` builds the slides' `SGD(learning_rate=..., decay=...)`,
  applies real updates and reads its learning rate back: Keras 3 drops
  `decay=` (it only logs a warning), so the rate never falls.
* `compare_decay` trains the same seeded model with and without decay.
* `CLAIMS` are the page's outcome sentences, checked against `claims_experiment`.

The slides call this the "Adaptive Learning Rate". Here the rate adapts only to the
step count, on a schedule fixed in advance; AdaGrad, RMSprop and Adam (page 12)
adapt each weight's rate to its gradients.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lab.claims import Claim
from lab.config import TrainConfig
from lab.data import Dataset
from lab.plots import COLORS, _figure, add_running_and_validation

SLIDE_LEARNING_RATE = 0.01
SLIDE_DECAY = 1e-4
# A long horizon for the schedule: 30 epochs of the full 55,000 training images in batches of 32
# (1,719 steps each). The slides give no epoch count; 30 is this app's choice, long enough for
# the slides' decay=1e-4 to show.
FULL_DATA_STEPS = 30 * 1_719
# A link that still carries the old option "the slides' 30 epochs" gets the link checks' notice and this
# page's run (ui.share.report_ignored).
HORIZONS = ("this page's run", f"30 epochs of the full data ({FULL_DATA_STEPS:,} steps)")
DECAY_OPTIONS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)
# A large starting rate makes the benefit of decay visible within a few epochs:
# without decay the loss keeps bouncing; with it the steps shrink and it settles.
BASE_FIELDS = dict(
    train_size=2_000, validation_size=1_000, epochs=3, batch_size=32, learning_rate=0.3, decay=1e-2,
    log_every=5, seed=42,
)
MAX_PLOTTED_POINTS = 2_000  # a schedule over 51,570 steps is drawn from this many evenly spaced steps


def base_config(**overrides) -> TrainConfig:
    """The page's small setup (BASE_FIELDS) with some fields changed.

    Args:
        **overrides: TrainConfig fields to change.
    Returns:
        a validated TrainConfig.
    """
    return TrainConfig(**{**BASE_FIELDS, **overrides})


# ----------------------------------------------------------------------
# The schedule
# ----------------------------------------------------------------------
def plotted_steps(total_steps: int) -> np.ndarray:
    """The steps at which a schedule is evaluated: every step, or evenly spaced ones for long horizons.

    Args:
        total_steps: the horizon.
    Returns:
        int array of steps from 0 to total_steps.
    """
    if total_steps + 1 <= MAX_PLOTTED_POINTS:
        return np.arange(total_steps + 1)
    return np.unique(np.linspace(0, total_steps, MAX_PLOTTED_POINTS).round().astype(int))


def schedule_values(learning_rate: float, decay: float, steps: Sequence[int]) -> np.ndarray:
    """The learning rate Keras 3 uses at each step, from its own InverseTimeDecay schedule.

    Args:
        learning_rate: the initial rate eta_0.
        decay: the decay per step.
        steps: steps t (updates already applied).
    Returns:
        float array of eta_0 / (1 + decay * t), as computed by Keras.
    """
    import keras

    if decay == 0:
        return np.full(len(steps), float(learning_rate))
    schedule = keras.optimizers.schedules.InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay)
    return np.asarray(keras.ops.convert_to_numpy(schedule(np.asarray(steps, dtype="float32"))), dtype=float)


def rate_after(learning_rate: float, decay: float, steps: int) -> float:
    """The learning rate Keras's InverseTimeDecay gives after `steps` updates.

    Args:
        learning_rate: the initial rate.
        decay: the decay per step.
        steps: updates applied.
    Returns:
        learning_rate / (1 + decay * steps) as a float.
    """
    return float(schedule_values(learning_rate, decay, [steps])[0])


def schedule_figure(learning_rate: float, decay: float, total_steps: int, compare_slides: bool = True) -> go.Figure:
    """The schedule lr / (1 + decay * t) per step, with the constant rate and the slides' decay for comparison.

    Args:
        learning_rate: the initial rate.
        decay: the chosen decay.
        total_steps: the horizon in steps.
        compare_slides: also draw the slides' SGD(lr=0.01, decay=1e-4).
    Returns:
        a Figure with one line per schedule.
    """
    steps = plotted_steps(total_steps)
    figure = _figure("Learning rate per step", "step t", "learning rate")
    figure.add_trace(go.Scatter(
        x=steps, y=schedule_values(learning_rate, decay, steps), mode="lines",
        name=f"{learning_rate:g} / (1 + {decay:g} t)", line=dict(color=COLORS[0], width=3),
    ))
    figure.add_trace(go.Scatter(
        x=steps, y=schedule_values(learning_rate, 0.0, steps), mode="lines",
        name=f"constant {learning_rate:g}", line=dict(color=COLORS[1], width=3, dash="dash"),
    ))
    if compare_slides:
        figure.add_trace(go.Scatter(
            x=steps, y=schedule_values(SLIDE_LEARNING_RATE, SLIDE_DECAY, steps), mode="lines",
            name=f"slides: {SLIDE_LEARNING_RATE:g} / (1 + {SLIDE_DECAY:g} t)", line=dict(color=COLORS[2], width=2),
        ))
    figure.update_yaxes(rangemode="tozero")
    return figure


# ----------------------------------------------------------------------
# What Keras 3 does with the slides' spelling
# ----------------------------------------------------------------------
@dataclass
class IgnoredDecay:
    """Learning rates after real updates with the old and the new spelling."""

    steps: int
    learning_rate: float
    decay: float
    old_rate_after: float  # SGD(learning_rate=lr, decay=decay) after `steps` updates
    new_rate_after: float  # SGD(learning_rate=InverseTimeDecay(...)) after the same updates
    expected: float  # lr / (1 + decay * steps)
    warning: str  # what Keras said about decay=, if anything


_WARNINGS_LOCK = threading.Lock()


def ignored_decay_check(learning_rate: float = SLIDE_LEARNING_RATE, decay: float = SLIDE_DECAY,
                        steps: int = 1_000) -> IgnoredDecay:
    """Apply `steps` real SGD updates with `decay=` and with InverseTimeDecay, and read both rates back.

    Args:
        learning_rate: the initial rate.
        decay: the decay per step.
        steps: updates to apply.
    Returns:
        an IgnoredDecay with both rates and Keras's warning text.
    """
    import keras

    # The warnings filter is process-wide and catch_warnings is not thread-safe, so
    # sessions take turns here (it runs once per server: the page caches it).
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = keras.optimizers.SGD(learning_rate=learning_rate, decay=decay)  # the slides' spelling (lr= renamed)
    new = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.InverseTimeDecay(
        learning_rate, decay_steps=1, decay_rate=decay))
    for optimizer in (old, new):
        _apply_updates(optimizer, steps)
    messages = [str(w.message) for w in caught if "decay" in str(w.message)]
    return IgnoredDecay(
        steps=steps, learning_rate=learning_rate, decay=decay,
        old_rate_after=float(keras.ops.convert_to_numpy(old.learning_rate)),
        new_rate_after=float(keras.ops.convert_to_numpy(new.learning_rate)),
        expected=learning_rate / (1 + decay * steps),
        warning=messages[0] if messages else "(no warning)",
    )


def _apply_updates(optimizer, steps: int) -> None:
    # A one-number "model": minimising w^2 with real apply_gradients calls advances the optimizer's
    # step counter exactly as training would.
    import keras
    import tensorflow as tf

    weight = keras.Variable(1.0)

    @tf.function
    def run():
        for _ in tf.range(steps):
            optimizer.apply_gradients([(2.0 * weight, weight)])

    optimizer.build([weight])
    run()


def spelling_table(config: TrainConfig) -> pd.DataFrame:
    """The slides' Keras 2 spelling next to its Keras 3 equivalent, for this config's rate and decay.

    Args:
        config: a config with decay > 0.
    Returns:
        DataFrame with columns "slide (Keras 2)", "Keras 3" and "what the slide spelling does".
    """
    from lab.optimizers import old_spelling

    # old_spelling appends what the slide spelling does to the Keras 3 code as a comment;
    # here it gets a column of its own, so it cannot be read as a remark on the Keras 3 line.
    rows = [(old, *new.partition("  # ")[::2]) for old, new in old_spelling(config)]
    return pd.DataFrame(rows, columns=["slide (Keras 2)", "Keras 3", "what the slide spelling does"])


def spelling_code(config: TrainConfig) -> str:
    """The slides' spellings as commented-out code, each with what it does, above its Keras 3 line.

    Args:
        config: a config with decay > 0.
    Returns:
        Python source: per spelling, two comment lines and the Keras 3 code.
    """
    table = spelling_table(config)
    return "\n".join(
        f"# slide (Keras 2): {old}\n#   {what}\n{new}\n"
        for old, new, what in zip(table["slide (Keras 2)"], table["Keras 3"], table["what the slide spelling does"])
    )


# ----------------------------------------------------------------------
# Training with and without decay
# ----------------------------------------------------------------------
def compare_decay(
    dataset: Dataset, config: Optional[TrainConfig] = None, on_run: Optional[Callable[[int, str], None]] = None,
    trainer: Optional[Callable] = None,
) -> dict[str, object]:
    """Train the same seeded model with a constant rate and with the config's decay.

    Args:
        dataset: the shared dataset.
        config: the decayed run (defaults to base_config()); its twin has decay 0.
        on_run: called with (index, label) before each run.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default (pages pass the
            server's shared queue and result cache).
    Returns:
        {"constant": TrainResult, "decay": TrainResult}.
    """
    if trainer is None:
        from lab.training import train as trainer  # TensorFlow loads here, not on import

    config = config or base_config()
    runs = {"constant": replace(config, decay=0.0), "decay": config}
    results = {}
    for index, (label, run_config) in enumerate(runs.items()):
        if on_run is not None:
            on_run(index, label)
        results[label] = trainer(run_config, dataset)
    return results


def run_color(result) -> str:
    """The run's colour, the same in every figure: blue for the decayed run, orange for the constant one.

    Args:
        result: a TrainResult.
    Returns:
        a hex colour.
    """
    return COLORS[1] if result.config.decay == 0 else COLORS[0]


def run_label(result) -> str:
    """A legend label such as "constant 0.3" or "0.3 / (1 + 0.01 t)".

    Args:
        result: a TrainResult.
    Returns:
        the label.
    """
    config = result.config
    if config.decay == 0:
        return f"constant {config.learning_rate:g}"
    return f"{config.learning_rate:g} / (1 + {config.decay:g} t)"


def logged_rates_figure(results: dict) -> go.Figure:
    """The learning rate the optimizer actually used at each logged step, per run.

    Args:
        results: label -> TrainResult.
    Returns:
        a Figure with one line per run.
    """
    figure = _figure("Learning rate used during training", "step", "learning rate")
    for result in results.values():
        figure.add_trace(go.Scatter(
            x=[entry["step"] for entry in result.step_log], y=[entry["learning_rate"] for entry in result.step_log],
            mode="lines", name=run_label(result), line=dict(color=run_color(result), width=3),
        ))
    figure.update_yaxes(rangemode="tozero")
    return figure


def loss_comparison_figure(results: dict) -> go.Figure:
    """Running training loss per step and validation loss per epoch, for each run.

    Args:
        results: label -> TrainResult.
    Returns:
        a Figure with a thin running-loss line and a thick validation line per run.
    """
    figure = _figure("Loss with and without decay", "epoch", "loss")
    for result in results.values():
        add_running_and_validation(figure, result, "loss", run_label(result), run_color(result))
    return figure


def comparison_table(results: dict) -> pd.DataFrame:
    """One row per run: final learning rate, final training and validation loss, validation and test accuracy.

    Args:
        results: label -> TrainResult.
    Returns:
        a pandas DataFrame.
    """
    rows = []
    for result in results.values():
        history = result.history
        rows.append({
            "schedule": run_label(result),
            # The rate after the last step, as the schedule text above the table counts steps; the step
            # log's last entry holds the rate of a step up to log_every steps earlier.
            "learning rate at the end": (history["learning_rate"][-1] if history["learning_rate"] else
                                         result.step_log[-1]["learning_rate"] if result.step_log else float("nan")),
            "final training loss": history["loss"][-1] if history["loss"] else float("nan"),
            "final validation loss": history["val_loss"][-1] if history["val_loss"] else float("nan"),
            "final validation accuracy": history["val_accuracy"][-1] if history["val_accuracy"] else float("nan"),
            "test accuracy": result.test_accuracy,
            "stop": result.stop_reason,
        })
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
# (initial rate, decay) pairs of the claims' experiment, at the page's other defaults (BASE_FIELDS).
CLAIM_RUNS = ((0.3, 0.0), (0.3, 1e-2), (0.3, 0.1), (0.01, 0.0), (0.01, 0.1))


def claims_experiment(dataset: Dataset, trainer: Optional[Callable] = None) -> dict[tuple[float, float], object]:
    """Train every run the page's claims are about: two starting rates, with no, moderate and strong decay.

    Args:
        dataset: the shared dataset.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default.
    Returns:
        {(learning_rate, decay): TrainResult} for every pair in CLAIM_RUNS.
    """
    if trainer is None:
        from lab.training import train as trainer

    return {(rate, decay): trainer(base_config(learning_rate=rate, decay=decay), dataset)
            for rate, decay in CLAIM_RUNS}


def _final(result, metric: str) -> float:
    values = result.history.get(metric) or [float("nan")]
    return float(values[-1])


def _settles(runs) -> bool:
    # Decay at the page's default must end clearly lower than the constant rate, not by seed noise.
    return _final(runs[(0.3, 1e-2)], "val_loss") < _final(runs[(0.3, 0.0)], "val_loss") - 0.05


def _strong_decay_still_helps_a_large_start(runs) -> bool:
    return _final(runs[(0.3, 0.1)], "val_accuracy") > _final(runs[(0.3, 0.0)], "val_accuracy") + 0.02


def _strong_decay_stalls_a_small_start(runs) -> bool:
    stalled, constant = runs[(0.01, 0.1)], runs[(0.01, 0.0)]
    end_rate = stalled.step_log[-1]["learning_rate"]
    return (stalled.stop_reason == "completed" and end_rate < 0.01 / 15
            and _final(stalled, "val_accuracy") < _final(constant, "val_accuracy") - 0.10)


HEADLINE = Claim(
    "Shrinking the learning rate step by step lets you start with large steps (fast progress) and still settle "
    "into a minimum instead of bouncing around it.", _settles)
RUN_CLAIMS = (
    Claim("From η₀ = 0.3, decay 0.01 lets training settle: the final validation loss is clearly lower than "
          "with the constant rate.", _settles),
    Claim("Even a strong decay of 0.1 beats the constant rate from η₀ = 0.3: a large start leaves room to "
          "shrink, and the early steps are still large.", _strong_decay_still_helps_a_large_start),
    Claim("Too strong a decay for the starting rate stalls training: from η₀ = 0.01, decay 0.1 shrinks the "
          "rate below a fifteenth of η₀ within these 189 steps, before the model has learnt much, and ends "
          "more than 10 points of validation accuracy below the constant rate.", _strong_decay_stalls_a_small_start),
)
CLAIMS = (HEADLINE,) + RUN_CLAIMS

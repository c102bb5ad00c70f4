"""What a training run will cost, estimated before it starts.

A step of the lecture's MLP costs about the same per weight and per image,
whatever the widths: its time is dominated by the matrix products, which do
parameters x batch multiply-adds forward and about twice that backward. So
one number, seconds per (parameter x image) of a training step, measured on
this machine when the worker warms up (`lab.worker.warm_up`), predicts any
run: steps x batch x parameters x that number, plus a fixed overhead per
step, plus the forward passes over the validation and test images.
"""

from __future__ import annotations

import math

from lab.config import TrainConfig

INPUTS = 28 * 28
# Measured on the 2-core build machine (bench/bench_training.py): 1.2 ms per step of
# 32 images on the 266,610-parameter lecture model. Used until the worker has timed its own.
DEFAULT_SECONDS_PER_UNIT = 1.4e-10
STEP_OVERHEAD_SECONDS = 2e-4  # the graph loop's own cost per step, which tiny models make visible
FORWARD_SHARE = 1 / 3  # evaluating an image costs about a third of training on it
TEST_IMAGES = 10_000


def parameter_count(config: TrainConfig, classes: int = 10) -> int:
    """Weights and biases of the model `config` describes, batch-norm scales and shifts included.

    Args:
        config: its hidden_units and batch_norm.
        classes: units of the output layer.
    Returns:
        the number of trainable parameters.
    """
    widths = [INPUTS, *config.hidden_units, classes]
    dense = sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(widths[:-1], widths[1:]))
    normalised = 2 * sum(config.hidden_units) if config.batch_norm != "none" else 0
    return dense + normalised


# A run teaches the estimate its step time only when it is big enough to time: on a small model the loop's
# own cost per step, not the parameters, sets the pace, and a few steps are mostly start-up.
LEARN_MIN_PARAMETERS = 100_000
LEARN_MIN_STEPS = 200


def seconds_per_unit_of(config: TrainConfig, history: dict, steps_per_epoch: int, classes: int = 10,
                        min_steps: int = LEARN_MIN_STEPS) -> float | None:
    """One training step's seconds per parameter x image in a finished run, or None for a run too small to time.

    Only whole epochs are timed: a run stopped (or diverged) part-way through an epoch has no time for
    that epoch's steps, and counting them made its steps look faster than they were.

    Args:
        config: the run's settings.
        history: its per-epoch history, whose "seconds" are each whole epoch's training time.
        steps_per_epoch: the steps of one epoch.
        classes: units of the output layer.
        min_steps: the fewest timed steps worth learning from (the warm-up's probe, a traced run, needs fewer).
    Returns:
        seconds per parameter x image, as the warm-up probe measures it, or None.
    """
    parameters = parameter_count(config, classes)
    steps = len(history.get("seconds") or ()) * steps_per_epoch
    if parameters < LEARN_MIN_PARAMETERS or steps < max(1, min_steps):
        return None
    return sum(history["seconds"]) / steps / (parameters * config.batch_size)


def estimate_seconds(config: TrainConfig, seconds_per_unit: float = DEFAULT_SECONDS_PER_UNIT) -> float:
    """Wall time of `config` on an otherwise idle worker.

    Args:
        config: the run's settings.
        seconds_per_unit: one training step's seconds per parameter x image (measured at warm-up, then
            by each finished run big enough to time).
    Returns:
        seconds, for every planned epoch (early stopping can only make it shorter).
    """
    parameters = parameter_count(config)
    steps = config.epochs * config.steps_per_epoch_estimate
    images_trained = config.epochs * config.steps_per_epoch_estimate * config.batch_size
    images_evaluated = config.epochs * config.validation_size + TEST_IMAGES
    work = (images_trained + FORWARD_SHARE * images_evaluated) * parameters
    return steps * STEP_OVERHEAD_SECONDS + work * seconds_per_unit


def describe_seconds(seconds: float) -> str:
    """A rounded duration for people: "under 1 s", "about 6 s", "about 4 min", "about 2 h".

    Args:
        seconds: a duration.
    Returns:
        a short phrase.
    """
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


# The advice aims at this share of the budget, not all of it. Estimates follow the worker's latest step
# timing, and on a shared server another student's run can slow the next steps: a run sized to the exact
# limit was refused on its next press (seen on CI, where an advised 24 epochs became "about 2 min" later).
ADVICE_SHARE = 0.8


def over_budget_message(config: TrainConfig, estimate: float, budget: float) -> str:
    """What to tell a student whose run would take longer than the server allows, and what to reduce.

    Args:
        config: the refused run.
        estimate: its estimated seconds.
        budget: the per-run limit in seconds.
    Returns:
        two sentences naming the fewest changes that fit.
    """
    share = ADVICE_SHARE * budget / estimate
    fixes = []
    epochs = math.floor(config.epochs * share)
    if epochs >= 1:
        fixes.append(f"at most {epochs} epoch{'s' if epochs != 1 else ''}")
    images = config.train_size or (config.steps_per_epoch_estimate * config.batch_size)
    fewer_images = int(images * share) // 500 * 500
    if fewer_images >= 500:
        fixes.append(f"at most {fewer_images:,} training images")
    if len(config.hidden_units) > 2 or max(config.hidden_units) > 300:
        fixes.append("fewer or narrower hidden layers")
    advice = ", or ".join(fixes) if fixes else "a smaller model and fewer images"
    return (f"This run would take {describe_seconds(estimate)} on this shared server, and the limit is "
            f"{budget:g} s per run so that everyone in the class gets a turn. Try {advice}.")

"""The Training Lab's explanations next to a run: why it diverged, what to try, what to notice."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Optional

import numpy as np

from lab.config import OPTIMIZER_LABELS, TrainConfig
from lab.runs.record import RunRecord

__all__ = [  # what the package re-exports
    "SAFE_LEARNING_RATE", "NICE_LEARNING_RATES", "suggested_learning_rate", "divergence_advice", "Note",
    "explain", "check_fits",
]


# A learning rate that trains the lecture's model stably with each optimizer:
# the usual Keras defaults, and 0.1 for plain SGD as on the slides' sweep.
SAFE_LEARNING_RATE = {
    "sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.1, "rmsprop": 0.001, "adam": 0.001,
}
NICE_LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)


# ----------------------------------------------------------------------
# Explanations
# ----------------------------------------------------------------------
def _nice_learning_rate(limit: float) -> float:
    return max([rate for rate in NICE_LEARNING_RATES if rate <= limit], default=NICE_LEARNING_RATES[0])


def suggested_learning_rate(config: TrainConfig) -> float:
    """A learning rate to try after a divergence: at most a tenth of this one, and stable for the optimizer.

    Args:
        config: the diverged run's config.
    Returns:
        a round learning rate.
    """
    return _nice_learning_rate(min(SAFE_LEARNING_RATE[config.optimizer], config.learning_rate / 10))


def _divergence_headline(detail: str) -> str:
    became = re.search(r"loss became (\S+) at step (\d+)", detail)
    if became:
        value = {"nan": "NaN", "inf": "infinite", "-inf": "minus infinity"}.get(became.group(1).lower(), became.group(1))
        return f"The batch loss became {value} at step {int(became.group(2)):,}"
    # "by step" is the wording of runs files written before the steps were numbered from 0.
    rose = re.search(r"loss rose to (\S+) (at|by) step (\d+)", detail)
    if rose:
        return f"The batch loss exploded to {rose.group(1)} {rose.group(2)} step {int(rose.group(3)):,}"
    return "The loss exploded"


def divergence_advice(config: TrainConfig, detail: str) -> str:
    """Why a run diverged and what to try, e.g. "The loss became NaN at step 212: the learning rate 2 is too large for SGD; try 0.1 or add clipping."

    Args:
        config: the diverged run's config.
        detail: the run's stop detail, which names the step.
    Returns:
        one or two sentences for students.
    """
    name = OPTIMIZER_LABELS[config.optimizer]
    suggestion = suggested_learning_rate(config)
    if config.clip == "none":
        remedy = f"try {suggestion:g} or add gradient clipping (e.g. by global norm 1.0)"
    else:
        remedy = (f"try {suggestion:g} or clip harder than {config.clip.replace('_', ' ')} "
                  f"{config.clip_threshold:g} (e.g. {max(config.clip_threshold / 10, 0.01):g})")
    text = f"{_divergence_headline(detail)}: the learning rate {config.learning_rate:g} is too large for {name}; {remedy}."
    if config.kernel_initializer in ("random_normal", "random_uniform") and config.init_stddev >= 0.5:
        text += (f" The initial weights are large too ({config.kernel_initializer}, spread {config.init_stddev:g}): "
                 "he_normal or glorot_uniform keep the signal at a stable size.")
    if config.batch_size <= 4:
        text += f" Batches of {config.batch_size} make every gradient very noisy; 32 is the lecture's size."
    return text


@dataclass(frozen=True)
class Note:
    """One explanation shown next to a run: `kind` is error, warning, info or success."""

    kind: str
    text: str


def explain(record: RunRecord, chance: float = 0.1) -> list[Note]:
    """What to notice about a run, most important first.

    Args:
        record: the run.
        chance: accuracy of random guessing (0.1 for ten classes).
    Returns:
        a list of Notes; never empty.
    """
    config = record.config
    if record.status == "diverged":
        return [Note("error", divergence_advice(config, record.detail))]
    notes = []
    if record.status in ("stopped", "cancelled", "time_budget"):
        missing = "" if record.test_accuracy is not None else " It ended before the test set could be evaluated."
        notes.append(Note("warning", f"{record.detail}{missing}"))
    if record.status == "early_stopped":
        notes.append(Note("info", f"Early stopping: {record.detail}"))
    notes += _learning_notes(record, chance)
    if config.clip != "none" and record.clipped_fraction is not None:
        notes.append(Note("info", f"Clipping ({config.clip.replace('_', ' ')} {config.clip_threshold:g}) changed "
                                  f"the gradient at {record.clipped_fraction:.0%} of the steps."))
    if not notes:
        notes.append(_summary_note(record))
    return notes


def _learning_notes(record: RunRecord, chance: float) -> list[Note]:
    config, history = record.config, record.history
    accuracy = record.test_accuracy if record.test_accuracy is not None else record.final_val_accuracy
    notes = []
    if accuracy is not None and accuracy < 2 * chance and record.epochs_done:
        if config.kernel_initializer == "zeros":
            notes.append(Note("warning", (
                f"Accuracy {accuracy:.0%} is about chance ({chance:.0%}). With every weight starting at zero, "
                "all units of a layer compute the same output and get the same gradient, so they never become "
                "different: symmetry is never broken. Use glorot_uniform or he_normal.")))
        else:
            notes.append(Note("warning", (
                f"Accuracy {accuracy:.0%} is about chance ({chance:.0%}): the model barely learned. Check the "
                f"learning rate ({config.learning_rate:g}) and the gradient norms per layer.")))
    val_loss = [v for v in history.get("val_loss", []) if v is not None and math.isfinite(v)]
    if len(val_loss) >= 3:
        best = int(np.argmin(val_loss))
        if best < len(val_loss) - 1 and val_loss[-1] > val_loss[best] * 1.02:
            notes.append(Note("info", (
                f"Validation loss was lowest after epoch {best + 1} ({val_loss[best]:.3f}) and rose to "
                f"{val_loss[-1]:.3f} by epoch {len(val_loss)} while the training loss kept falling: overfitting. "
                "Early stopping with patience 2 would stop near the best epoch.")))
    notes += _gradient_notes(record)
    return notes


def _gradient_notes(record: RunRecord) -> list[Note]:
    if not record.step_log or len(record.layer_names) < 2:
        return []
    first = np.array([entry["layer_norms"][0] for entry in record.step_log], dtype=float)
    last = np.array([entry["layer_norms"][-1] for entry in record.step_log], dtype=float)
    ratio = np.nanmedian(first / np.maximum(last, 1e-30))
    if np.isfinite(ratio) and ratio < 1e-2:
        return [Note("info", (
            f"The first layer's gradient is about {ratio:.0e} times the output layer's: the gradient vanishes on "
            f"its way back through {record.config.activation} layers, so the early layers learn slowly."))]
    return []


def _summary_note(record: RunRecord) -> Note:
    history = record.history
    val = [v for v in history.get("val_accuracy", []) if v is not None]
    if len(val) >= 2:
        return Note("success", (
            f"Validation accuracy went from {val[0]:.1%} after epoch 1 to {val[-1]:.1%} after epoch {len(val)}. "
            "Use Same-seed A/B below to change one setting and see what it alone does."))
    if val:
        return Note("success", f"Validation accuracy after one epoch: {val[0]:.1%}.")
    return Note("info", record.detail)


def check_fits(config: TrainConfig, train_images: int) -> Optional[str]:
    """Whether the config's split fits a dataset with `train_images` training images.

    Args:
        config: the run's config.
        train_images: images in the dataset's training split.
    Returns:
        None when it fits, else a message with the largest sizes that fit.
    """
    wanted = (config.train_size or 0) + config.validation_size
    if config.validation_size < train_images and wanted <= train_images:
        return None
    training = f"{config.train_size:,}" if config.train_size else "all the others"
    return (f"This copy of {config.dataset} has {train_images:,} training images, but training on {training} "
            f"and validating on {config.validation_size:,} needs more. Choose fewer training or validation images.")

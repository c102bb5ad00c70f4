"""Practice: exercises that check themselves against real training results.

Each check is a pure function: it takes a TrainResult (or an answer) and
returns a Check with pass/fail and one or two sentences of feedback. The
checks read the config that was actually trained, so a run that breaks an
exercise's rules (the wrong optimizer, too many epochs) cannot pass it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional

from lab.claims import Claim
from lab.config import TrainConfig

TARGET_ACCURACY = 0.85  # "reach 85% validation accuracy within 2 epochs"
MAX_EPOCHS_FOR_TARGET = 2
DEEP_LAYERS = 10  # "make a 10-layer sigmoid network learn"
DEEP_TARGET = 0.5  # validation accuracy that counts as learning (chance is 0.10)
DEEP_MAX_EPOCHS = 3


@dataclass(frozen=True)
class Check:
    """The verdict on one attempt."""

    passed: bool
    feedback: str


@dataclass(frozen=True)
class Exercise:
    """One exercise: what to do and a hint."""

    key: str
    title: str
    task: str
    hint: str


# The one outcome an exercise's text states; checked as a claim (DEEP_CLAIM, below) on the form's defaults.
_DEEP_STAYS_AT_CHANCE = (f"A network of {DEEP_LAYERS} sigmoid layers stays at chance (10%) with plain SGD at learning "
                         "rate 0.01.")

EXERCISES = {
    "diverge": Exercise(
        "diverge", "Make SGD diverge",
        "Find a learning rate at which plain SGD diverges on the lecture's model: the loss blows up "
        "instead of going down.",
        "The lecture uses 0.01. Try values ten or a hundred times larger.",
    ),
    "target": Exercise(
        "target", "85% in two epochs",
        f"Reach {TARGET_ACCURACY:.0%} validation accuracy within {MAX_EPOCHS_FOR_TARGET} epochs.",
        "Try a faster optimizer, a larger learning rate, a different batch size, or all 55,000 images.",
    ),
    "deep_sigmoid": Exercise(
        "deep_sigmoid", "Make a 10-layer sigmoid network learn",
        f"{_DEEP_STAYS_AT_CHANCE} Get it above "
        f"{DEEP_TARGET:.0%} validation accuracy within {DEEP_MAX_EPOCHS} epochs, keeping all {DEEP_LAYERS} sigmoid layers.",
        "Its gradients vanish on the way back through ten sigmoids. What re-centres and re-scales each "
        "layer's inputs?",
    ),
    "zero_init": Exercise(
        "zero_init", "Why does zero initialisation fail?",
        "All kernels start at zero. Why does the network never get far above chance?",
        "Look at what the neurons of one layer compute, and at what their gradients are.",
    ),
}


def check_diverges(result) -> Check:
    """Pass when a plain-SGD run diverged.

    Args:
        result: a TrainResult.
    Returns:
        a Check.
    """
    config = result.config
    if config.optimizer != "sgd":
        return Check(False, f"This run used {config.optimizer}; the exercise is about plain SGD.")
    if config.clip != "none":
        return Check(False, "Clipping was on, which is exactly what stops a run from diverging. Turn it off.")
    if result.stop_reason == "diverged":
        return Check(True, f"Diverged at learning rate {config.learning_rate:g}: {result.stop_detail} "
                           "Each step overshoots the minimum by more than it started from, so the loss grows.")
    loss = result.history["loss"][-1] if result.history["loss"] else float("nan")
    # Named like the chart's line: the mean over the last epoch's batches, above the running line's end.
    return Check(False, f"Learning rate {config.learning_rate:g} trained without diverging (epoch-mean loss "
                        f"of the last epoch: {loss:.3f}). Try a larger one.")


def check_target_accuracy(result) -> Check:
    """Pass when validation accuracy reached 85% within the first 2 epochs.

    Args:
        result: a TrainResult.
    Returns:
        a Check.
    """
    accuracies = result.history["val_accuracy"][:MAX_EPOCHS_FOR_TARGET]
    if result.config.epochs > MAX_EPOCHS_FOR_TARGET:
        return Check(False, f"The run was set to {result.config.epochs} epochs; the rule is at most "
                            f"{MAX_EPOCHS_FOR_TARGET}.")
    if not accuracies:
        return Check(False, f"The run did not finish an epoch ({result.stop_detail}). Lower the learning rate.")
    if result.stop_reason == "diverged":
        return Check(False, f"The run diverged after {len(accuracies)} epoch(s) ({result.stop_detail}). "
                            "Lower the learning rate.")
    best = max(accuracies)
    epoch = accuracies.index(best) + 1
    if best >= TARGET_ACCURACY:
        return Check(True, f"{best:.1%} validation accuracy after epoch {epoch} "
                           f"({_describe(result.config)}).")
    return Check(False, f"Best validation accuracy was {best:.1%} (epoch {epoch}), short of "
                        f"{TARGET_ACCURACY:.0%}. {EXERCISES['target'].hint}")


def check_deep_sigmoid(result) -> Check:
    """Pass when a 10-layer sigmoid network got above 50% validation accuracy within 3 epochs.

    Args:
        result: a TrainResult.
    Returns:
        a Check; the feedback explains a high training but low validation accuracy with batch norm.
    """
    config = result.config
    if len(config.hidden_units) != DEEP_LAYERS or config.activation != "sigmoid":
        return Check(False, f"The network must keep {DEEP_LAYERS} sigmoid hidden layers; this one had "
                            f"{len(config.hidden_units)} {config.activation} layers.")
    if config.epochs > DEEP_MAX_EPOCHS:
        return Check(False, f"At most {DEEP_MAX_EPOCHS} epochs, this run had {config.epochs}.")
    accuracies = result.history["val_accuracy"]
    best = max(accuracies) if accuracies else 0.0
    if best >= DEEP_TARGET:
        return Check(True, f"{best:.1%} validation accuracy with {_describe(config)}: the gradients reach the "
                           "first layers again.")
    training = max(result.history["accuracy"]) if result.history["accuracy"] else 0.0
    if config.batch_norm != "none" and training >= DEEP_TARGET:
        return Check(False, f"Training accuracy reached {training:.1%}, but validation only {best:.1%}: batch "
                            "norm's moving averages, used at validation time, have not caught up yet. Train one "
                            "more epoch or on more images.")
    return Check(False, f"Best validation accuracy {best:.1%} (chance is 10%). {EXERCISES['deep_sigmoid'].hint}")


def _describe(config: TrainConfig) -> str:
    parts = [f"{config.optimizer} lr {config.learning_rate:g}", f"batch {config.batch_size}",
             f"{config.train_size or 55_000:,} images"]
    if config.batch_norm != "none":
        parts.append(f"batch norm {config.batch_norm} the activation")
    if config.kernel_initializer != "glorot_uniform":
        parts.append(config.kernel_initializer)
    return ", ".join(parts)


ZERO_INIT_CHOICES = (
    "Zero weights make the loss exactly zero, so there is nothing to minimise.",
    "Every neuron in a layer computes the same output and gets the same gradient, so they stay identical "
    "and the layer acts like a single neuron.",
    "The learning rate is multiplied by the weights, so zero weights mean zero steps for every layer.",
    "ReLU of zero is undefined, so the gradient cannot be computed.",
)
ZERO_INIT_ANSWER = 1
_ZERO_INIT_WHY_NOT = {
    0: "The loss is not zero: with zero kernels the softmax outputs 0.1 for every class, a cross-entropy of "
       "ln 10, about 2.3.",
    2: "The learning rate is not multiplied by the weights, and the output layer's bias does get a gradient "
       "and learns at once. What goes wrong is that every hidden neuron gets the same gradient (with ReLU, the "
       "same zero), so the neurons never become different from each other.",
    3: "Keras defines the ReLU gradient at zero (as 0), and the output layer's bias still learns. The problem "
       "is symmetry, not an undefined derivative.",
}


def check_zero_init_answer(choice: int) -> Check:
    """Check the multiple-choice answer to "why does zero init fail".

    Args:
        choice: index into ZERO_INIT_CHOICES.
    Returns:
        a Check with an explanation of why a wrong choice is wrong.
    """
    if not 0 <= choice < len(ZERO_INIT_CHOICES):
        raise ValueError(f"choice must be in [0, {len(ZERO_INIT_CHOICES) - 1}], got {choice}")
    if choice == ZERO_INIT_ANSWER:
        return Check(True, "Right: identical starting weights give identical outputs and identical gradients, "
                           "so the symmetry is never broken. Random initial weights break it; biases may still "
                           "start at zero.")
    return Check(False, _ZERO_INIT_WHY_NOT[choice])


def progress(passed: set) -> tuple[int, int]:
    """How many exercises are passed out of all.

    Args:
        passed: keys of the passed exercises.
    Returns:
        (passed count, total).
    """
    return len(set(passed) & set(EXERCISES)), len(EXERCISES)


# ----------------------------------------------------------------------
# The configs the exercise forms build
# ----------------------------------------------------------------------
def diverge_config(learning_rate: float, seed: int = 42) -> TrainConfig:
    """Plain SGD on 2,000 images for one epoch at the chosen learning rate.

    Args:
        learning_rate: the student's choice.
        seed: the run's seed.
    Returns:
        a TrainConfig.
    """
    return TrainConfig(optimizer="sgd", learning_rate=learning_rate, train_size=2_000, epochs=1, seed=seed,
                       validation_size=2_000, log_every=10)


def target_config(optimizer: str, learning_rate: float, batch_size: int, train_size, epochs: int = 2,
                  seed: int = 42) -> TrainConfig:
    """The lecture's model with the student's optimizer, learning rate, batch size and data size.

    Args:
        optimizer: one of lab.config.OPTIMIZERS.
        learning_rate: the initial step size.
        batch_size: images per step.
        train_size: training images, None for all 55,000.
        epochs: at most 2 counts.
        seed: the run's seed.
    Returns:
        a TrainConfig with the standard 5,000 validation images.
    """
    return TrainConfig(optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size,
                       train_size=train_size, epochs=epochs, seed=seed, log_every=50)


def deep_sigmoid_config(optimizer: str = "sgd", learning_rate: float = 0.01, batch_norm: str = "none",
                        kernel_initializer: str = "glorot_uniform", width: int = 64, epochs: int = 3,
                        seed: int = 42) -> TrainConfig:
    """Ten sigmoid layers of `width` units on 5,000 images.

    Args:
        optimizer: one of lab.config.OPTIMIZERS.
        learning_rate: the initial step size.
        batch_norm: "none", "before" or "after".
        kernel_initializer: a lab.config.INITIALIZERS name.
        width: units per hidden layer.
        epochs: at most 3 counts.
        seed: the run's seed.
    Returns:
        a TrainConfig.
    """
    return TrainConfig(hidden_units=(width,) * DEEP_LAYERS, activation="sigmoid", optimizer=optimizer,
                       learning_rate=learning_rate, batch_norm=batch_norm, kernel_initializer=kernel_initializer,
                       train_size=5_000, epochs=epochs, seed=seed, validation_size=2_000, log_every=25)


# ----------------------------------------------------------------------
# Outcome claims (an exercise's text and the "make SGD diverge" preset), checked by tests/lab/test_claims.py
# ----------------------------------------------------------------------
PRESET_DIVERGE_RATE = 3.0  # the "make SGD diverge" lecture preset's learning rate


def claims_experiment(dataset, trainer: Optional[Callable] = None) -> dict:
    """The runs behind the claims: the diverge exercise at learning rate 3, and the deep sigmoid one's defaults.

    Args:
        dataset: the shared Dataset.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default.
    Returns:
        {"diverge": TrainResult, "deep": TrainResult (plain SGD 0.01, 3 epochs, no batch norm)}.
    """
    if trainer is None:
        from lab.training import train as trainer

    return {"diverge": trainer(diverge_config(PRESET_DIVERGE_RATE), dataset),
            "deep": trainer(deep_sigmoid_config(epochs=DEEP_MAX_EPOCHS), dataset)}


def _diverges_to_a_huge_loss(runs) -> bool:
    result = runs["diverge"]
    start, end = _detail_number(result, "at step 0,"), _detail_number(result, "rose to")
    return (result.stop_reason == "diverged" and result.stop_epoch == 0 and result.stop_step <= 10
            and abs(start - 2.3) < 0.1 and end > 10 * start and check_diverges(result).passed)


def _detail_number(result, words: str) -> float:
    # The run stops before its first logged step, so its losses are read from the trainer's own account of the
    # stop: "The batch loss rose to 53.5 at step 1 (epoch 1), over 10x its value at step 0, 2.32."
    match = re.search(words + r" ([0-9][0-9.e+-]*[0-9])", result.stop_detail)
    return float(match.group(1)) if match else float("nan")


DEEP_CLAIM = Claim(_DEEP_STAYS_AT_CHANCE,
                   lambda runs: max(runs["deep"].history["val_accuracy"]) < 0.15
                   and len(runs["deep"].history["val_accuracy"]) == DEEP_MAX_EPOCHS)
DIVERGE_CLAIM = Claim(
    "At learning rate 3 plain SGD on the lecture's model diverges within 10 steps: its batch loss climbs from "
    "2.3 at step 0 to more than 10 times that.", _diverges_to_a_huge_loss)
CLAIMS = (DEEP_CLAIM, DIVERGE_CLAIM)

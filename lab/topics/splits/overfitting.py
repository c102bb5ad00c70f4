"""Overfitting and early stopping: the gap between training and validation, patience, and restored weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import plotly.graph_objects as go

from lab.config import TrainConfig
from lab.data import Dataset
from lab.plots import COLORS, curves_figure

__all__ = [  # what the package re-exports
    "overfitting_config", "generalisation_gap", "StopDecision", "early_stopping_decision",
    "keras_early_stopping_decision", "lowest_epoch", "fit_with_and_without_early_stopping", "SMALL_GAP",
    "BEST_MARKER_SIZE", "performance_order", "mistake_confidence", "fit_notice", "overfitting_figure", "patience_figure",
]


# ----------------------------------------------------------------------
# Overfitting and early stopping
# ----------------------------------------------------------------------
def overfitting_config(train_size: int = 500, epochs: int = 40, seed: int = 1,
                       patience: Optional[int] = None) -> TrainConfig:
    """The lecture model on a small subset for many epochs (Adam, lr 0.001, batch 64), optionally with early stopping.

    Args:
        train_size: training images.
        epochs: passes over them.
        seed: seeds split, weights and batch order.
        patience: early-stopping patience in epochs, or None for no early stopping.
    Returns:
        a TrainConfig with 2,000 validation images.
    """
    return TrainConfig(train_size=train_size, validation_size=2_000, epochs=epochs, seed=seed,
                       optimizer="adam", learning_rate=0.001, batch_size=64,
                       early_stopping_patience=patience, log_every=10)


def generalisation_gap(history: dict) -> float:
    """Training accuracy minus validation accuracy after the last epoch.

    Args:
        history: a TrainResult history.
    Returns:
        the gap (positive when the model does better on the images it trained on).
    """
    return float(history["accuracy"][-1] - history["val_accuracy"][-1])


@dataclass(frozen=True)
class StopDecision:
    """Where early stopping ends a run, in 1-based epochs."""

    stop_epoch: Optional[int]  # the epoch after which training stops; None = it runs to the end
    best_epoch: int  # the epoch with the best value, whose weights are restored


def early_stopping_decision(values: Sequence[float], patience: int, min_delta: float = 0.0) -> StopDecision:
    """Where keras.callbacks.EarlyStopping(patience=...) on a minimised metric stops, by its own rule.

    An epoch improves when its value is below the best so far by more than
    min_delta. Training stops after the first epoch that ends `patience` epochs
    without improvement, and the best epoch's weights are the ones restored.

    Args:
        values: the monitored value (e.g. val_loss) after each epoch.
        patience: epochs without improvement before stopping (at least 1).
        min_delta: the smallest decrease that counts as an improvement.
    Returns:
        a StopDecision.
    """
    best, best_epoch, wait = None, 0, 0
    for epoch, value in enumerate(values):
        wait += 1
        if best is None or value + abs(min_delta) < best:
            best, best_epoch, wait = value, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return StopDecision(stop_epoch=epoch + 1, best_epoch=best_epoch + 1)
    return StopDecision(stop_epoch=None, best_epoch=best_epoch + 1)


def keras_early_stopping_decision(values: Sequence[float], patience: int, min_delta: float = 0.0) -> StopDecision:
    """Feed a recorded history to Keras's own EarlyStopping and report where it stops.

    Args:
        values: the monitored val_loss after each epoch.
        patience: the callback's patience.
        min_delta: the callback's min_delta.
    Returns:
        a StopDecision, as Keras decided it.
    """
    import keras  # only this check needs Keras; the scrubber above is pure Python

    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    model.stop_training = False  # the flag the callback sets; fit() would create it
    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {"val_loss": float(value)})
        if model.stop_training:
            return StopDecision(stop_epoch=epoch + 1, best_epoch=callback.best_epoch + 1)
    return StopDecision(stop_epoch=None, best_epoch=callback.best_epoch + 1)


def lowest_epoch(values: Sequence[float]) -> int:
    """The 1-based epoch of the lowest value (the first one on ties).

    Args:
        values: e.g. val_loss per epoch.
    Returns:
        the epoch number.
    """
    return int(np.argmin(values)) + 1


def fit_with_and_without_early_stopping(dataset: Dataset, train_size: int = 500, epochs: int = 40,
                                        patience: int = 3, seed: int = 1, trainer: Optional[Callable] = None) -> dict:
    """Train the overfitting setup twice: all epochs, then with Keras's EarlyStopping.

    Both runs share the seed, so their histories agree until early stopping ends the second.

    Args:
        dataset: the shared dataset.
        train_size: training images.
        epochs: the most epochs to train.
        patience: early-stopping patience of the second run.
        seed: seeds split, weights and batch order of both runs.
        trainer: trainer(config, dataset) -> TrainResult; lab.training.train by default
            (a page passes the server's shared, cached trainer).
    Returns:
        {"full": TrainResult, "early": TrainResult}.
    """
    if trainer is None:
        from lab.training import train as trainer  # TensorFlow loads only when something trains

    return {
        "full": trainer(overfitting_config(train_size, epochs, seed), dataset),
        "early": trainer(overfitting_config(train_size, epochs, seed, patience=patience), dataset),
    }


SMALL_GAP = 0.05  # a training-validation gap below 5 points of accuracy reads as "small" on this page
BEST_MARKER_SIZE = 24  # the best epoch's star: four times Plotly's markers on the curves (6)


def performance_order(history: dict, test_accuracy: float) -> str:
    """The slide's "training > validation > test" checked on one run, in words.

    Args:
        history: the run's TrainResult history.
        test_accuracy: its accuracy on the test set.
    Returns:
        one Markdown sentence with the three accuracies, their order and whether the gap is small.
    """
    scores = {"training": history["accuracy"][-1], "validation": history["val_accuracy"][-1], "test": test_accuracy}
    order = " > ".join(sorted(scores, key=scores.get, reverse=True))
    gap = generalisation_gap(history)
    verdict = (f"small (under {SMALL_GAP * 100:.0f} points), which the slides call acceptable" if gap < SMALL_GAP else
               f"{gap * 100:.0f} points, not small: the model does much better on the images it trained on than on "
               "images it has not seen")
    return (f"This run: training {scores['training']:.1%}, validation {scores['validation']:.1%}, test "
            f"{scores['test']:.1%}, so {order}. The training-validation gap is {verdict}.")


def mistake_confidence(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean probability a model gives its predicted class on the images it gets wrong.

    Args:
        probabilities: (n, classes) softmax outputs.
        labels: (n,) true labels.
    Returns:
        a number in [0, 1]; high means confidently wrong.
    """
    wrong = probabilities.argmax(axis=1) != labels
    return float(probabilities[wrong].max(axis=1).mean()) if wrong.any() else 0.0


def fit_notice(full, early, test_labels: np.ndarray) -> str:
    """What the two runs of the overfitting experiment measured, in neutral words, for any settings.

    Args:
        full: the TrainResult trained for all epochs.
        early: the TrainResult of the same run with early stopping.
        test_labels: the test set's labels (for the confidence of the mistakes).
    Returns:
        Markdown sentences that state the measured numbers and no outcome beyond them.
    """
    history = full.history
    lowest, last = lowest_epoch(history["val_loss"]), len(history["val_loss"])
    text = (f"on {full.config.train_size:,} images the training accuracy reaches {history['accuracy'][-1]:.0%} "
            f"while validation accuracy is {history['val_accuracy'][-1]:.0%}. ")
    if lowest < last:
        text += (f"The validation loss is lowest at epoch {lowest} ({history['val_loss'][lowest - 1]:.3f}) and is "
                 f"{history['val_loss'][-1]:.3f} after epoch {last}; over the same epochs the training loss goes "
                 f"from {history['loss'][lowest - 1]:.3f} to {history['loss'][-1]:.3f}. ")
    else:
        text += f"The validation loss is lowest at the last epoch, {last} ({history['val_loss'][-1]:.3f}). "
    if early.stop_reason == "early_stopped":
        text += (f"Early stopping ended the run after epoch {early.stop_epoch}, "
                 f"{early.stop_epoch - early.best_epoch} epochs after its best validation loss, and restored the "
                 f"weights of epoch {early.best_epoch}. ")
    else:
        text += f"Early stopping did not stop within these {len(early.history['epoch'])} epochs. "
    return text + (
        "It watches the loss, not the accuracy. Trained to the end, the model has test loss "
        f"{full.test_loss:.3f} and test accuracy {full.test_accuracy:.1%}, and on the test images it gets wrong it is "
        f"on average {mistake_confidence(full.test_probabilities, test_labels):.0%} sure of its wrong answer; with "
        f"early stopping {early.test_loss:.3f}, {early.test_accuracy:.1%} and "
        f"{mistake_confidence(early.test_probabilities, test_labels):.0%}. Cross-entropy punishes confident mistakes."
    )


def overfitting_figure(history: dict, metric: str = "accuracy") -> go.Figure:
    """Training against validation curves of one metric per epoch.

    Args:
        history: a TrainResult history.
        metric: "accuracy" or "loss".
    Returns:
        a Figure (from lab.plots.curves_figure) with a training and a validation trace.
    """
    figure = curves_figure(history, [], metric, title=f"Training and validation {metric}")
    if metric == "accuracy":
        figure.update_yaxes(tickformat=".0%")
    return figure


def patience_figure(history: dict, patience: int) -> go.Figure:
    """The recorded validation loss with where a given patience stops and which epoch it restores.

    Args:
        history: a TrainResult history recorded without early stopping.
        patience: the patience to try.
    Returns:
        a Figure with the training and validation loss, a marker at the best epoch
        and a vertical line at the stop (none when the run would not stop).
    """
    decision = early_stopping_decision(history["val_loss"], patience)
    figure = curves_figure(history, [], "loss", title=f"Patience {patience}: where early stopping ends the run")
    best = decision.best_epoch
    # The last trace, so drawn over the validation marker it sits on; green with a white rim and larger than that
    # marker, where a vermillion star of about its size disappeared into the orange validation line.
    figure.add_trace(go.Scatter(
        x=[best], y=[history["val_loss"][best - 1]], mode="markers", name=f"best epoch {best} (restored)",
        marker=dict(symbol="star", size=BEST_MARKER_SIZE, color=COLORS[2], line=dict(color="#FFFFFF", width=1.5)),
        cliponaxis=False,
    ))
    if decision.stop_epoch is not None:
        figure.add_vrect(x0=best, x1=decision.stop_epoch, fillcolor=COLORS[3], opacity=0.08, line_width=0)
        figure.add_vline(x=decision.stop_epoch, line=dict(color=COLORS[3], width=3, dash="dash"),
                         annotation_text=f"stops after epoch {decision.stop_epoch}", annotation_position="top left")
    return figure

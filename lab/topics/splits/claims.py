"""The splits page's outcome claims, checked on the real data by tests/lab/test_claims.py."""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import pandas as pd

from lab.claims import Claim
from lab.data import Dataset
from lab.topics.splits.checks import pixel_twins
from lab.topics.splits.overfitting import (
    SMALL_GAP,
    early_stopping_decision,
    fit_with_and_without_early_stopping,
    generalisation_gap,
    lowest_epoch,
    mistake_confidence,
    overfitting_config,
)
from lab.topics.splits.selection import (
    DEFAULT_TUNING_SIZE,
    TUNING_SIZES,
    selection_experiment,
    selection_summary,
    train_candidates,
)

__all__ = [  # what the package re-exports
    "CLAIM_SIZES", "DEFAULT_EPOCHS", "DEFAULT_PATIENCE", "DEFAULT_CANDIDATES", "CANDIDATE_TRAIN_SIZE",
    "CANDIDATE_EPOCHS", "SMALL_SUBSET_CLAIM", "MORE_IMAGES_CLAIM", "VALIDATION_LOSS_CLAIM", "PATIENCE_CLAIM",
    "RESTORED_WEIGHTS_CLAIM", "HONEST_CLAIM", "TUNING_SIZE_CLAIM", "CANDIDATE_COUNT_CLAIM", "claims_experiment",
    "TWINS_CLAIM", "OVERFITTING_HEADLINE", "TUNING_HEADLINE", "OVERFITTING_CLAIMS", "EARLY_STOPPING_CLAIMS",
    "SELECTION_CLAIMS", "CLAIMS",
]


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
CLAIM_SIZES = (500, 5_000)  # the page's default training images, and its largest choice
DEFAULT_EPOCHS, DEFAULT_PATIENCE = 40, 3  # the page's default overfitting run
DEFAULT_CANDIDATES, CANDIDATE_TRAIN_SIZE, CANDIDATE_EPOCHS = 8, 1_000, 3  # the page's default candidates


def claims_experiment(dataset: Dataset, trainer: Optional[Callable] = None) -> dict:
    """The page's default experiments: the pixel twins, the overfitting runs and the candidates.

    The overfitting run (500 images, 40 epochs, seed 1) is trained with and without early
    stopping (patience 3), and again on 5,000 images; the 8 candidates (1,000 images, 3 epochs)
    go through selection_experiment.

    Args:
        dataset: the shared dataset.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default.
    Returns:
        {"twins": int, "fits": {"full", "early"}, "sizes": {train_size: TrainResult},
         "mistake_confidence": {"full", "early"}, "by_tuning_size": {size: draws},
         "by_count": {count: draws}}.
    """
    if trainer is None:
        from lab.training import train as trainer

    fits = fit_with_and_without_early_stopping(dataset, CLAIM_SIZES[0], DEFAULT_EPOCHS, DEFAULT_PATIENCE,
                                               trainer=trainer)
    candidates = train_candidates(dataset, DEFAULT_CANDIDATES, CANDIDATE_TRAIN_SIZE, CANDIDATE_EPOCHS,
                                  trainer=trainer)
    return {
        "twins": pixel_twins(dataset),
        "fits": fits,
        # The full run is the page's default on 500 images; only the 5,000-image run is extra.
        "sizes": {CLAIM_SIZES[0]: fits["full"],
                  CLAIM_SIZES[1]: trainer(overfitting_config(CLAIM_SIZES[1], DEFAULT_EPOCHS), dataset)},
        "mistake_confidence": {name: mistake_confidence(run.test_probabilities, dataset.y_test)
                               for name, run in fits.items()},
        **selection_experiment(candidates),
    }


def _test_picked_optimism(draws: pd.DataFrame) -> float:
    return float(selection_summary(draws).loc["test-picked", "mean optimism"])


def _a_handful_of_twins(result) -> bool:
    return result["twins"] == 10


def _small_subset_gap(result) -> bool:
    return generalisation_gap(result["sizes"][CLAIM_SIZES[0]].history) > 3 * SMALL_GAP


def _small_subset_overfits(result) -> bool:
    run = result["sizes"][CLAIM_SIZES[0]]
    return _small_subset_gap(result) and run.history["val_accuracy"][-1] > run.test_accuracy - 0.03


def _more_images_shrink_the_gap(result) -> bool:
    small, large = (generalisation_gap(result["sizes"][size].history) for size in CLAIM_SIZES)
    return large < small - SMALL_GAP


def _validation_loss_turns(result) -> bool:
    history = result["fits"]["full"].history
    lowest = lowest_epoch(history["val_loss"])
    return (lowest <= 15 and history["val_loss"][-1] > 1.15 * history["val_loss"][lowest - 1]
            and history["loss"][-1] < 0.2 * history["loss"][lowest - 1])


def _patience_trades_noise_for_epochs(result) -> bool:
    values = result["fits"]["full"].history["val_loss"]
    impatient, default, patient = (early_stopping_decision(values, patience) for patience in (1, DEFAULT_PATIENCE, 15))
    return (impatient.best_epoch < default.best_epoch
            and values[impatient.best_epoch - 1] > 1.05 * values[default.best_epoch - 1]
            and patient.best_epoch == default.best_epoch and patient.stop_epoch == default.stop_epoch + 12)


def _restored_weights_have_the_lower_test_loss(result) -> bool:
    full, early = result["fits"]["full"], result["fits"]["early"]
    confidence = result["mistake_confidence"]
    return (early.stop_reason == "early_stopped" and early.stop_epoch == early.best_epoch + DEFAULT_PATIENCE
            and early.test_loss < full.test_loss - 0.1 and early.test_accuracy <= full.test_accuracy
            and confidence["full"] > confidence["early"] + 0.1)


def _test_pick_is_optimistic(result) -> bool:
    summary = selection_summary(result["by_tuning_size"][DEFAULT_TUNING_SIZE])
    test_picked, validation_picked = summary.loc["test-picked"], summary.loc["validation-picked"]
    return (test_picked["mean optimism"] > 0.005 and test_picked["share of draws optimistic"] > 0.65
            and test_picked["mean optimism"] > validation_picked["mean optimism"] + 0.005)


def _validation_pick_is_honest(result) -> bool:
    validation_picked = selection_summary(result["by_tuning_size"][DEFAULT_TUNING_SIZE]).loc["validation-picked"]
    # Over 1,000 cuts of 500 images the mean moves by about 0.06 points by chance alone.
    return (abs(validation_picked["mean optimism"]) < 0.0015
            and 0.4 < validation_picked["share of draws optimistic"] < 0.6)


def _smaller_tuning_part_bigger_illusion(result) -> bool:
    optimism = [_test_picked_optimism(result["by_tuning_size"][size]) for size in TUNING_SIZES]
    return bool(np.all(np.diff(optimism) < 0) and optimism[0] > 0.02 and optimism[-1] < 0.0025)


def _more_candidates_bigger_illusion(result) -> bool:
    by_count = result["by_count"]
    optimism = [_test_picked_optimism(by_count[count]) for count in sorted(by_count)]
    two = by_count[2][by_count[2]["rule"] == "test-picked"]
    return (optimism[0] < 0.005 and optimism[-1] > 0.01 and float(np.diff(optimism).min()) > -0.001
            and float(two["winner"].value_counts(normalize=True).max()) > 0.9)


TWINS_CLAIM = Claim(
    "Fashion-MNIST's files contain a few exact duplicates: 10 of the 10,000 test images have a pixel-identical twin "
    "among the 60,000 training images, so a handful can appear even though no position is shared.",
    _a_handful_of_twins)
OVERFITTING_HEADLINE = Claim(
    "With a **small training set and many epochs** the model overfits: at the page's defaults (500 images, 40 "
    "epochs) training accuracy ends more than 15 points above validation accuracy.", _small_subset_gap)
TUNING_HEADLINE = Claim(
    "**Tuning on the test set** gives an optimistic estimate: at the page's defaults (8 candidates, 500 test images "
    "for choosing) the winner on those images reports on average more than half a point more than it scores on the "
    "test images not used for choosing, because it was chosen partly for its luck on those very images.",
    _test_pick_is_optimistic)
SMALL_SUBSET_CLAIM, MORE_IMAGES_CLAIM = OVERFITTING_CLAIMS = (
    Claim("On the default 500 images the training accuracy ends more than 15 points above the validation "
          "accuracy, while validation and test accuracy stay close: the gap measures memorising.",
          _small_subset_overfits),
    Claim("More training images shrink the gap: on 5,000 images it is more than 5 points smaller than on 500, "
          "after the same 40 epochs.", _more_images_shrink_the_gap),
)
VALIDATION_LOSS_CLAIM, PATIENCE_CLAIM, RESTORED_WEIGHTS_CLAIM = EARLY_STOPPING_CLAIMS = (
    Claim("The validation loss is lowest within the first 15 epochs and ends more than 15% above that lowest value, "
          "while the training loss falls to under a fifth of what it was at that epoch: from there on the model "
          "fits its training images ever better and the validation images worse.", _validation_loss_turns),
    Claim("Patience 1 is fooled by noise: it stops at the first rise of the validation loss and keeps weights whose "
          "validation loss is more than 5% above those patience 3 keeps. A larger patience waits through such noise "
          "but trains longer: patience 15 keeps the same epoch as patience 3 after 12 more epochs.",
          _patience_trades_noise_for_epochs),
    Claim("Early stopping (patience 3) stops 3 epochs after the best validation loss and restores weights whose test "
          "loss is more than 0.1 lower than the model trained to the end, although that model gets at least as many "
          "test images right: on the test images it gets wrong it is on average more than 10 points surer of its "
          "wrong answer, and cross-entropy punishes confident mistakes.", _restored_weights_have_the_lower_test_loss),
)
HONEST_CLAIM, TUNING_SIZE_CLAIM, CANDIDATE_COUNT_CLAIM = SELECTION_CLAIMS = (
    Claim("Picked on the validation set instead, the test number is honest: at 500 tuning images its reported and "
          "fresh accuracy differ by less than 0.15 points on average, and the reported one is higher in 40% to 60% "
          "of the cuts.", _validation_pick_is_honest),
    Claim("The smaller the tuning part, the bigger the illusion: the test-picked winner's mean optimism grows at "
          "every step down the slider, from under a quarter of a point with 5,000 tuning images to more than 2 "
          "points with 100.", _smaller_tuning_part_bigger_illusion),
    Claim("The more candidates, the bigger the illusion: at 500 tuning images the mean optimism is under half a "
          "point with the first 2 candidates, of which one is clearly better and wins more than 90% of the cuts, "
          "and more than 1 point with all 8; adding a candidate never lowers it by more than 0.1 points.",
          _more_candidates_bigger_illusion),
)
CLAIMS = ((TWINS_CLAIM, OVERFITTING_HEADLINE, TUNING_HEADLINE) + OVERFITTING_CLAIMS + EARLY_STOPPING_CLAIMS
          + SELECTION_CLAIMS)

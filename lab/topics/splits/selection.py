"""Choosing on the test set: candidates, tuning parts, and why the winner's test number is optimistic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lab.claims import in_points
from lab.config import TrainConfig
from lab.data import Dataset
from lab.plots import COLORS, REFERENCE_COLOR
from lab.topics.splits.checks import _LAYOUT

__all__ = [  # what the package re-exports
    "Candidates", "candidate_config", "train_candidates", "selection_draws", "selection_summary",
    "selection_notice", "candidates_figure", "optimism_figure", "selection_code", "TUNING_SIZES",
    "DEFAULT_TUNING_SIZE", "first_candidates", "selection_experiment",
]


# ----------------------------------------------------------------------
# Choosing on the test set
# ----------------------------------------------------------------------
@dataclass
class Candidates:
    """Several equally configured models that differ only in their seed, as plain data."""

    seeds: list[int]
    correct: np.ndarray  # (candidates, test images) bool: was each test image classified right
    validation_accuracy: np.ndarray  # (candidates,)
    config: TrainConfig  # the shared settings (of the first candidate)
    seconds: float


def candidate_config(seed: int, train_size: int = 2_000, epochs: int = 4) -> TrainConfig:
    """One candidate's settings: the lecture model with Adam on a small subset.

    Args:
        seed: the candidate's seed (split, weights and batch order).
        train_size: training images.
        epochs: passes over them.
    Returns:
        a TrainConfig with 2,000 validation images.
    """
    return TrainConfig(train_size=train_size, validation_size=2_000, epochs=epochs, seed=seed,
                       optimizer="adam", learning_rate=0.001, log_every=1_000)


def train_candidates(dataset: Dataset, count: int = 8, train_size: int = 2_000, epochs: int = 4,
                     first_seed: int = 100, trainer: Optional[Callable] = None) -> Candidates:
    """Train `count` candidates that differ only in their seed and record which test images each gets right.

    Args:
        dataset: the shared dataset.
        count: number of candidates.
        train_size: training images per candidate.
        epochs: passes per candidate.
        first_seed: seeds are first_seed, first_seed + 1, ...
        trainer: trainer(config, dataset) -> TrainResult; lab.training.train by default.
    Returns:
        a Candidates record.
    """
    if trainer is None:
        from lab.training import train as trainer  # TensorFlow loads only when candidates are trained

    seeds = [first_seed + offset for offset in range(count)]
    correct, validation, seconds = [], [], 0.0
    for seed in seeds:
        result = trainer(candidate_config(seed, train_size, epochs), dataset)
        correct.append(np.argmax(result.test_probabilities, axis=1) == dataset.y_test)
        validation.append(result.history["val_accuracy"][-1])
        seconds += result.seconds
    return Candidates(seeds=seeds, correct=np.array(correct), validation_accuracy=np.array(validation),
                      config=candidate_config(seeds[0], train_size, epochs), seconds=seconds)


def selection_draws(candidates: Candidates, tuning_size: int = 500, draws: int = 1_000, seed: int = 0) -> pd.DataFrame:
    """Repeatedly cut the test set into a tuning part and a fresh part and pick a winner two ways.

    "test-picked" is the candidate with the best accuracy on the tuning part of
    the test set; "validation-picked" is the one with the best validation
    accuracy. Each winner's tuning-part accuracy is what would be reported; its
    accuracy on the fresh part (never used for choosing) is the honest number.

    Args:
        candidates: from train_candidates.
        tuning_size: test images used to choose (the rest are fresh).
        draws: how many random cuts.
        seed: seeds the cuts.
    Returns:
        a DataFrame with one row per draw and rule: rule, winner, reported, fresh, optimism.
    """
    rng = np.random.default_rng(seed)
    total = candidates.correct.shape[1]
    all_correct = candidates.correct.sum(axis=1)
    validation_winner = int(np.argmax(candidates.validation_accuracy))
    rows = []
    for draw in range(draws):
        tuning_correct = candidates.correct[:, rng.permutation(total)[:tuning_size]].sum(axis=1)
        # The fresh part is everything else, so its count is the total minus the tuning part's.
        tuning = tuning_correct / tuning_size
        fresh = (all_correct - tuning_correct) / (total - tuning_size)
        for rule, winner in (("test-picked", int(np.argmax(tuning))), ("validation-picked", validation_winner)):
            rows.append({"draw": draw, "rule": rule, "winner": candidates.seeds[winner], "reported": tuning[winner],
                         "fresh": fresh[winner], "optimism": tuning[winner] - fresh[winner]})
    frame = pd.DataFrame(rows)
    frame.attrs["tuning_size"] = tuning_size
    return frame


def selection_summary(draws: pd.DataFrame) -> pd.DataFrame:
    """Mean reported and fresh accuracy per rule, the mean optimism and how often it is positive.

    Args:
        draws: from selection_draws.
    Returns:
        a DataFrame indexed by rule.
    """
    grouped = draws.groupby("rule")
    return pd.DataFrame({
        "reported accuracy": grouped["reported"].mean(),
        "fresh accuracy": grouped["fresh"].mean(),
        "mean optimism": grouped["optimism"].mean(),
        "share of draws optimistic": grouped["optimism"].apply(lambda values: float(np.mean(values > 0))),
    }).loc[["test-picked", "validation-picked"]]


def selection_notice(draws: pd.DataFrame) -> str:
    """What the cuts of the test set measured for both ways of choosing, in neutral words, for any settings.

    Args:
        draws: from selection_draws.
    Returns:
        Markdown sentences that state the measured numbers and no outcome beyond them.
    """
    summary = selection_summary(draws)

    def measured(rule: str) -> str:
        row = summary.loc[rule]
        # The direction in words: a signed "+0.12 points" left the reader to work out which was higher.
        fresh = in_points(-row["mean optimism"], "above what it reported", "below what it reported",
                          "the same as it reported", decimals=2)
        return (f"reports {row['reported accuracy']:.1%} on average and scores {row['fresh accuracy']:.1%} on fresh "
                f"images, {fresh}; its reported number was the higher one in "
                f"{row['share of draws optimistic']:.0%} of the cuts")

    return (f"over {draws['draw'].nunique():,} cuts, the winner on the tuning part {measured('test-picked')}. "
            f"The winner picked on validation {measured('validation-picked')}.")


def candidates_figure(candidates: Candidates, tuning_size: int = 500, seed: int = 0) -> go.Figure:
    """One cut of the test set: each candidate's accuracy on the tuning part and on the fresh part.

    Args:
        candidates: from train_candidates.
        tuning_size: test images used to choose.
        seed: seeds the cut (the first draw of selection_draws with the same seed).
    Returns:
        a Figure with two Bar traces; the test-picked winner is named in the title.
    """
    order = np.random.default_rng(seed).permutation(candidates.correct.shape[1])
    tuning = candidates.correct[:, order[:tuning_size]].mean(axis=1)
    fresh = candidates.correct[:, order[tuning_size:]].mean(axis=1)
    winner = int(np.argmax(tuning))
    names = [f"seed {seed_}" + (" ★" if index == winner else "") for index, seed_ in enumerate(candidates.seeds)]
    figure = go.Figure([
        go.Bar(x=names, y=tuning, name=f"tuning part of the test set ({tuning_size:,} images)", marker_color=COLORS[3]),
        go.Bar(x=names, y=fresh, name=f"fresh test images ({len(order) - tuning_size:,})", marker_color=COLORS[2]),
    ])
    figure.update_layout(
        barmode="group",
        title=f"★ wins on the tuning part with {tuning[winner]:.1%}; on fresh images it scores {fresh[winner]:.1%}",
        xaxis_title="candidate", yaxis_title="accuracy", **_LAYOUT,
    )
    low = float(min(tuning.min(), fresh.min()))
    figure.update_yaxes(range=[max(0.0, low - 0.05), min(1.0, float(max(tuning.max(), fresh.max())) + 0.03)],
                        tickformat=".0%")
    return figure


def optimism_figure(draws: pd.DataFrame) -> go.Figure:
    """Histogram of reported minus fresh accuracy over many cuts, for both ways of choosing.

    Args:
        draws: from selection_draws.
    Returns:
        a Figure with one Histogram trace per rule and a line at zero.
    """
    figure = go.Figure()
    # The tuning accuracy moves in steps of 1/tuning_size; bins of three steps, shared by
    # both histograms, keep the bars from aliasing against those steps.
    tuning_size = int(draws.attrs.get("tuning_size", 500))
    bins = dict(size=3 * 100 / tuning_size)
    for index, rule in enumerate(("test-picked", "validation-picked")):
        values = draws.loc[draws["rule"] == rule, "optimism"] * 100
        figure.add_trace(go.Histogram(x=values, name=f"{rule}: mean {values.mean():+.2f} points",
                                      marker_color=COLORS[3 if index == 0 else 0], opacity=0.6, xbins=bins))
    figure.add_vline(x=0, line=dict(color=REFERENCE_COLOR, dash="dash"))
    figure.update_layout(barmode="overlay", title="Reported minus fresh accuracy over many cuts of the test set",
                         xaxis_title="optimism (percentage points; > 0 means the reported number is too good)",
                         yaxis_title="cuts", **_LAYOUT)
    return figure


def selection_code(count: int, train_size: int, epochs: int, tuning_size: int) -> str:
    """Keras 3 code of the test-set selection experiment.

    Args:
        count: candidates.
        train_size: training images per candidate.
        epochs: passes per candidate.
        tuning_size: test images used to choose.
    Returns:
        Python source as a string.
    """
    return f'''import keras
import numpy as np

(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_valid, y_valid = x_train[:2000], y_train[:2000]
x_train, y_train = x_train[2000:2000 + {train_size}], y_train[2000:2000 + {train_size}]
x_tune, y_tune = x_test[:{tuning_size}], y_test[:{tuning_size}]    # used to choose: no longer a test
x_fresh, y_fresh = x_test[{tuning_size}:], y_test[{tuning_size}:]  # never looked at while choosing

results = []
for seed in range({count}):  # identical candidates except for the seed
    keras.utils.set_random_seed(seed)  # fine in a script; the app seeds each layer instead
    model = keras.Sequential([
        keras.Input(shape=(28, 28)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
        keras.layers.Dense(300, activation="relu"), keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs={epochs}, validation_data=(x_valid, y_valid), verbose=0)
    results.append((model.evaluate(x_valid, y_valid, verbose=0)[1],
                    model.evaluate(x_tune, y_tune, verbose=0)[1],
                    model.evaluate(x_fresh, y_fresh, verbose=0)[1]))

valid, tune, fresh = np.array(results).T
best = tune.argmax()   # chosen on the tuning part of the test set
print("picked on the test set: reported", tune[best], "fresh", fresh[best])
best = valid.argmax()  # chosen on the validation set: the test set played no part in it
print("picked on validation: reported", tune[best], "fresh", fresh[best])
'''
TUNING_SIZES = (100, 200, 500, 1_000, 2_000, 5_000)  # the tuning-part slider's choices
DEFAULT_TUNING_SIZE = 500


def first_candidates(candidates: Candidates, count: int) -> Candidates:
    """The first `count` candidates: what train_candidates(count=count) trains with the same settings.

    Args:
        candidates: from train_candidates.
        count: how many to keep (seeds first_seed to first_seed + count - 1).
    Returns:
        a Candidates record of the first `count`.
    """
    return Candidates(seeds=candidates.seeds[:count], correct=candidates.correct[:count],
                      validation_accuracy=candidates.validation_accuracy[:count], config=candidates.config,
                      seconds=candidates.seconds * count / len(candidates.seeds))


def selection_experiment(candidates: Candidates) -> dict:
    """Cut the test set 1,000 times at every tuning-part size, and for the first 2, 3, ... of the candidates.

    Args:
        candidates: from train_candidates.
    Returns:
        {"by_tuning_size": {size: draws} for TUNING_SIZES,
         "by_count": {count: draws} at DEFAULT_TUNING_SIZE for counts 2 to all}.
    """
    return {
        "by_tuning_size": {size: selection_draws(candidates, size) for size in TUNING_SIZES},
        "by_count": {count: selection_draws(first_candidates(candidates, count), DEFAULT_TUNING_SIZE)
                     for count in range(2, len(candidates.seeds) + 1)},
    }

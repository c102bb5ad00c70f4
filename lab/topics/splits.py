"""Topic 4, training, validation and test sets.

- The split: seeded and stratified, with a check that no image index is shared
  and a count of pixel-identical images across the splits.
- Overfitting: a small training subset and many epochs open a gap between
  training and validation accuracy.
- Early stopping: Keras's EarlyStopping with patience and restored best weights,
  and a pure function that says where a given patience would stop on a recorded
  history (tested against Keras's own decision).
- Tuning on the test set is optimistic: the candidate that wins on the test set
  scores lower on fresh data; the one picked on validation data does not.
- The page's outcome claims (CLAIMS), about its default experiments
  (claims_experiment), and the neutral notices it shows for any other settings.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lab.claims import Claim
from lab.config import TrainConfig
from lab.data import Dataset, split_indices
from lab.plots import COLORS, REFERENCE_COLOR, curves_figure

# Larger type than Plotly's default, for the back row of a lecture hall.
_LAYOUT = dict(template="plotly_white", font=dict(size=14), margin=dict(l=60, r=20, t=60, b=50),
               legend=dict(orientation="h", y=-0.25))


# ----------------------------------------------------------------------
# The split and its checks
# ----------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def image_groups(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """An id per image such that pixel-identical images share it, for train and test.

    Args:
        dataset: a loaded Dataset (cached per dataset object).
    Returns:
        (train_ids, test_ids), int arrays aligned with x_train and x_test.
    """
    pixels = np.concatenate([dataset.x_train, dataset.x_test]).reshape(-1, 28 * 28)
    rows = np.ascontiguousarray(pixels).view(np.dtype((np.void, pixels.shape[1]))).ravel()
    _, ids = np.unique(rows, return_inverse=True)
    return ids[: len(dataset.x_train)], ids[len(dataset.x_train):]


@dataclass
class SplitReport:
    """Sizes, class balance and overlap checks of one split, as plain data."""

    sizes: dict[str, int]  # training, validation, unused, test
    class_counts: pd.DataFrame  # one row per class, one column per split
    overlaps: pd.DataFrame  # one row per pair of splits
    shared_indices: int  # positions that are both in training and validation (must be 0)

    @property
    def disjoint(self) -> bool:
        """Whether training and validation share no image index.

        Returns:
            True when the split is clean.
        """
        return self.shared_indices == 0


def split_report(dataset: Dataset, train_size: Optional[int], validation_size: int, seed: int) -> SplitReport:
    """Make the seeded split and check it: sizes, class balance, shared indices, identical images.

    Args:
        dataset: the shared dataset.
        train_size: training images kept (None = all not held out).
        validation_size: images held out of the training file for validation.
        seed: the split's seed.
    Returns:
        a SplitReport.
    """
    train_index, validation_index = split_indices(dataset.y_train, train_size, validation_size, seed)
    train_ids, test_ids = image_groups(dataset)
    groups = {"training": train_ids[train_index], "validation": train_ids[validation_index], "test": test_ids}
    pairs = (("training", "validation"), ("training", "test"), ("validation", "test"))
    shared = len(np.intersect1d(train_index, validation_index))
    # Positions only mean something inside one file; the test images come from another file.
    overlaps = pd.DataFrame([
        {
            "splits": f"{first} / {second}",
            "shared image positions": f"{shared:,}" if first == "training" and second == "validation"
            else "separate files",
            "pixel-identical images": int(np.isin(groups[second], groups[first]).sum()),
        }
        for first, second in pairs
    ])
    counts = {
        "training": np.bincount(dataset.y_train[train_index], minlength=dataset.num_classes),
        "validation": np.bincount(dataset.y_train[validation_index], minlength=dataset.num_classes),
        "test": np.bincount(dataset.y_test, minlength=dataset.num_classes),
    }
    class_counts = pd.DataFrame({"class": list(dataset.class_names), **counts})
    sizes = {
        "training": len(train_index), "validation": len(validation_index),
        "unused": len(dataset.y_train) - len(train_index) - len(validation_index), "test": len(dataset.y_test),
    }
    return SplitReport(sizes=sizes, class_counts=class_counts, overlaps=overlaps, shared_indices=shared)


def split_sizes_figure(report: SplitReport) -> go.Figure:
    """The training file cut into training, validation and unused images, and the test file.

    Args:
        report: a SplitReport.
    Returns:
        a Figure with one horizontal stacked Bar trace per part.
    """
    figure = go.Figure()
    parts = (("training", COLORS[0]), ("validation", COLORS[1]), ("unused", "#BBBBBB"), ("test", COLORS[2]))
    for name, color in parts:
        row = "test file" if name == "test" else "training file"
        figure.add_trace(go.Bar(
            y=[row], x=[report.sizes[name]], name=f"{name}: {report.sizes[name]:,}", orientation="h",
            marker_color=color, text=[f"{report.sizes[name]:,}"] if report.sizes[name] else None,
            textposition="inside",
        ))
    figure.update_layout(barmode="stack", title="Where every image goes", xaxis_title="images", height=300,
                         **{**_LAYOUT, "legend": dict(orientation="h", y=-0.45, traceorder="normal")})
    return figure


def class_balance_figure(report: SplitReport) -> go.Figure:
    """Share of each class in each split: a stratified split keeps them equal.

    Args:
        report: a SplitReport.
    Returns:
        a Figure with one Bar trace per split.
    """
    figure = go.Figure()
    frame = report.class_counts
    for index, split in enumerate(("training", "validation", "test")):
        shares = frame[split] / max(1, frame[split].sum())
        figure.add_trace(go.Bar(x=frame["class"], y=shares, name=split, marker_color=COLORS[index]))
    # The legend sits on top: rotated class names on a phone would run into it below.
    figure.update_layout(barmode="group", title="Class shares per split", xaxis_title="class", yaxis_title="share of the split",
                         **{**_LAYOUT, "legend": dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right")})
    figure.update_yaxes(tickformat=".0%")
    return figure


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
    figure.add_trace(go.Scatter(
        x=[best], y=[history["val_loss"][best - 1]], mode="markers", name=f"best epoch {best} (restored)",
        marker=dict(symbol="star", size=18, color=COLORS[3]),
    ))
    if decision.stop_epoch is not None:
        figure.add_vrect(x0=best, x1=decision.stop_epoch, fillcolor=COLORS[3], opacity=0.08, line_width=0)
        figure.add_vline(x=decision.stop_epoch, line=dict(color=COLORS[3], width=3, dash="dash"),
                         annotation_text=f"stops after epoch {decision.stop_epoch}", annotation_position="top left")
    return figure


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
        return (f"reports {row['reported accuracy']:.1%} on average and scores {row['fresh accuracy']:.1%} on fresh "
                f"images, a difference of {row['mean optimism'] * 100:+.2f} points; its reported number was the "
                f"higher one in {row['share of draws optimistic']:.0%} of the cuts")

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


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/test_claims.py
# ----------------------------------------------------------------------
CLAIM_SIZES = (500, 5_000)  # the page's default training images, and its largest choice
DEFAULT_EPOCHS, DEFAULT_PATIENCE = 40, 3  # the page's default overfitting run
DEFAULT_CANDIDATES, CANDIDATE_TRAIN_SIZE, CANDIDATE_EPOCHS = 8, 1_000, 3  # the page's default candidates
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


def pixel_twins(dataset: Dataset) -> int:
    """How many test images are pixel-identical to some training image.

    Args:
        dataset: a loaded Dataset.
    Returns:
        the count.
    """
    train_ids, test_ids = image_groups(dataset)
    return int(np.isin(test_ids, train_ids).sum())


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

"""Run records: what a session keeps of each training run, and how runs are compared and shared.

A `RunRecord` is the bounded, plain-data summary of one run: its config, the
per-epoch history, a thinned step log, test metrics, per-class accuracy, the
confusion matrix and the predicted probabilities of a fixed sample of test
images (never all 10,000, so a session's memory stays small). `RunHistory` keeps
the last `MAX_RUNS` of them. Runs export to CSV and JSON, and JSON imports back
after a strict check of size, schema and value ranges: files are parsed as JSON
only, never unpickled or evaluated, and settings go through `TrainConfig.from_dict`.

This module also writes the explanations the Training Lab shows next to a run,
such as why a run diverged and what to try instead.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from lab.config import (  # setting_label: re-exported for the compare table's callers
    AB_SETTINGS, FIELD_TYPES, OPTIMIZER_LABELS, OPTIMIZER_PARAMETERS, SETTINGS, TrainConfig, setting_label,
)

MAX_RUNS = 20  # runs kept per session; the oldest is dropped first
MAX_STEP_POINTS = 300  # step-log entries kept per run (thinned evenly, the last always kept)
# Per-step values kept from step 0: lab.training keeps whole chunks that start within its
# first 100 steps, and a chunk has at most 1,000 steps (log_every's largest value).
MAX_FIRST_STEPS = 1_100
FIRST_STEP_METRICS = ("loss", "accuracy")
SAMPLE_PER_CLASS = 20  # test images per class in the predictions sample
SAMPLE_MISCLASSIFIED = 60  # extra misclassified test images in the sample
MAX_TEST_IMAGES = 10_000  # the largest test set (Fashion-MNIST, MNIST)
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
FILE_FORMAT = "optimisation-lab-runs"
FILE_VERSION = 1
STATUSES = ("completed", "early_stopped", "diverged", "cancelled", "stopped", "time_budget")
SOURCES = ("trained", "cache", "shared", "imported")

# A learning rate that trains the lecture's model stably with each optimizer:
# the usual Keras defaults, and 0.1 for plain SGD as on the slides' sweep.
SAFE_LEARNING_RATE = {
    "sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.1, "rmsprop": 0.001, "adam": 0.001,
}
NICE_LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
HISTORY_KEYS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")
STEP_KEYS = ("step", "epoch", "loss", "batch_loss", "accuracy", "learning_rate", "global_norm",
             "clipped_global_norm", "clipped", "layer_norms", "clipped_layer_norms")
EPOCH_METRICS = ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")
STEP_METRICS = ("loss", "batch_loss", "accuracy", "learning_rate", "global_norm")
# Words for students in place of the code's keys; a key without an entry reads with spaces for underscores.
METRIC_LABELS = {
    "loss": "training loss", "val_loss": "validation loss", "accuracy": "training accuracy",
    "val_accuracy": "validation accuracy", "learning_rate": "learning rate", "batch_loss": "batch loss",
    "global_norm": "gradient norm (all layers)",
}
UNUSED = "not used"  # a table cell for a parameter this run's optimizer, clipping or initializer does not read


class RunFileError(ValueError):
    """An uploaded runs file was refused; the message says what is wrong and where."""


@dataclass
class RunRecord:
    """One finished, stopped or imported run as bounded plain data."""

    run_id: int
    config: TrainConfig
    status: str  # one of STATUSES; "stopped" = interrupted by the user, curves kept
    detail: str  # one sentence on how the run ended
    history: dict[str, list]  # per-epoch values, keys HISTORY_KEYS
    step_log: list[dict]  # at most MAX_STEP_POINTS entries, keys STEP_KEYS
    layer_names: list[str]
    steps_per_epoch: int
    stop_step: int
    clipped_fraction: Optional[float]  # share of steps whose gradient clipping changed
    seconds: float
    test_loss: Optional[float] = None
    test_accuracy: Optional[float] = None
    confusion_matrix: Optional[np.ndarray] = None  # (classes, classes) counts, full test set
    sample_indices: Optional[np.ndarray] = None  # test-set indices of the predictions sample
    sample_probabilities: Optional[np.ndarray] = None  # (sample, classes) float32
    source: str = "trained"  # one of SOURCES
    note: str = ""  # e.g. "B of #3: learning_rate 0.01 -> 0.1"
    ab_of: Optional[int] = None  # the run this one is the same-seed B of
    # Per-step "loss" and "accuracy" from step 0 (see lab.training.FIRST_STEPS); empty in older files.
    first_steps: dict[str, list] = field(default_factory=dict)

    @property
    def diverged_at(self) -> Optional[int]:
        """The step whose batch loss diverged, numbered like the charts (step 0 is the first batch).

        Returns:
            the last step a diverged run took (its stop step minus one), else None.
        """
        return self.stop_step - 1 if self.status == "diverged" else None

    @property
    def per_class_accuracy(self) -> Optional[np.ndarray]:
        """Test accuracy of each true class, from the confusion matrix.

        Returns:
            array of length classes, or None without test results.
        """
        if self.confusion_matrix is None:
            return None
        totals = self.confusion_matrix.sum(axis=1)
        return np.diag(self.confusion_matrix) / np.maximum(totals, 1)

    @property
    def epochs_done(self) -> int:
        """Completed epochs.

        Returns:
            the number of history rows.
        """
        return len(self.history.get("epoch", []))

    @property
    def final_val_accuracy(self) -> Optional[float]:
        """Validation accuracy after the last completed epoch.

        Returns:
            a float, or None before the first epoch ended.
        """
        values = self.history.get("val_accuracy") or []
        return finite_or_none(values[-1]) if values else None


# ----------------------------------------------------------------------
# Building records
# ----------------------------------------------------------------------
def finite_or_none(value) -> Optional[float]:
    """A number as a float, or None when it is missing, NaN or infinite (a gap in a table or a curve).

    Args:
        value: a number or None.
    Returns:
        a finite float, or None.
    """
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def thin_step_log(step_log: Sequence[dict], max_points: int = MAX_STEP_POINTS) -> list[dict]:
    """At most `max_points` evenly spaced entries of a step log, always keeping the last.

    Args:
        step_log: entries in step order.
        max_points: the bound.
    Returns:
        a new list of shallow-copied entries.
    """
    if len(step_log) <= max_points:
        chosen = range(len(step_log))
    else:
        chosen = np.unique(np.linspace(0, len(step_log) - 1, max_points).round().astype(int))
    return [dict(step_log[i]) for i in chosen]


def copy_first_steps(first_steps: Optional[dict]) -> dict[str, list]:
    """A bounded copy of a run's per-step values from step 0.

    Args:
        first_steps: a TrainResult's or TrainProgress's first_steps (may be None or empty).
    Returns:
        a dict of at most MAX_FIRST_STEPS values per metric of FIRST_STEP_METRICS.
    """
    first_steps = first_steps or {}
    return {key: list(first_steps[key][:MAX_FIRST_STEPS]) for key in FIRST_STEP_METRICS if key in first_steps}


def prediction_sample(labels: np.ndarray, predicted: np.ndarray, seed: int = 0) -> np.ndarray:
    """Test indices for the predictions gallery: a fixed per-class sample plus some mistakes.

    The per-class part depends only on the labels and `seed`, so every run shows
    the same images and galleries of two runs can be compared image by image.

    Args:
        labels: true test labels.
        predicted: predicted test labels of this run.
        seed: seeds the choice.
    Returns:
        sorted unique int indices, at most classes * SAMPLE_PER_CLASS + SAMPLE_MISCLASSIFIED.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    per_class = [order[labels[order] == cls][:SAMPLE_PER_CLASS] for cls in np.unique(labels)]
    wrong = order[predicted[order] != labels[order]][:SAMPLE_MISCLASSIFIED]
    return np.unique(np.concatenate(per_class + [wrong])).astype(np.int64)


def record_from_result(result, run_id: int, test_labels: np.ndarray, source: str = "trained",
                       note: str = "", ab_of: Optional[int] = None) -> RunRecord:
    """A bounded record of a finished `lab.training.TrainResult`.

    Args:
        result: the TrainResult (treated as read-only; it may be shared through the cache).
        run_id: the session's number for this run.
        test_labels: the dataset's test labels, for the predictions sample.
        source: "trained", "cache" or "shared".
        note: free text shown with the run.
        ab_of: the run this one is the same-seed B of.
    Returns:
        a RunRecord holding copies, never views, of the result's data.
    """
    probabilities = result.test_probabilities
    usable = probabilities is not None and bool(np.isfinite(probabilities).all())
    matrix = sample = sample_probabilities = None
    if usable:
        matrix = np.array(result.confusion_matrix, dtype=np.int64)
        sample = prediction_sample(test_labels, np.argmax(probabilities, axis=1))
        sample_probabilities = np.array(probabilities[sample], dtype=np.float32)
    status, detail = result.stop_reason, result.stop_detail
    if status == "cancelled":  # the user stopped it; the model trained so far was still tested
        status, detail = "stopped", f"{detail} The test results are those of the model trained so far."
    return RunRecord(
        run_id=run_id, config=result.config, status=status, detail=detail,
        history={key: list(values) for key, values in result.history.items()},
        step_log=thin_step_log(result.step_log), layer_names=list(result.layer_names),
        steps_per_epoch=result.steps_per_epoch, stop_step=result.stop_step,
        clipped_fraction=result.clipped_fraction, seconds=float(result.seconds),
        test_loss=finite_or_none(result.test_loss) if usable else None,
        test_accuracy=finite_or_none(result.test_accuracy) if usable else None,
        confusion_matrix=matrix, sample_indices=sample, sample_probabilities=sample_probabilities,
        source=source, note=note, ab_of=ab_of, first_steps=copy_first_steps(result.first_steps),
    )


def record_from_progress(progress, config: TrainConfig, run_id: int, note: str = "",
                         ab_of: Optional[int] = None) -> RunRecord:
    """A "stopped" record from the last progress snapshot of an interrupted run.

    Args:
        progress: the last lab.training.TrainProgress seen.
        config: the run's config.
        run_id: the session's number for this run.
        note: free text shown with the run.
        ab_of: the run this one is the same-seed B of.
    Returns:
        a RunRecord with the curves so far and no test results.
    """
    step_log = thin_step_log(progress.step_log)
    logged_clips = [entry.get("clipped", False) for entry in step_log]
    clipped = float(np.mean(logged_clips)) if logged_clips and config.clip != "none" else 0.0
    return RunRecord(
        run_id=run_id, config=config, status="stopped",
        detail=(f"Stopped during epoch {min(progress.epoch + 1, progress.epochs)} at step "
                f"{progress.step:,} of {progress.total_steps:,}; the curves so far are kept."),
        history={key: list(values) for key, values in progress.history.items()},
        step_log=step_log, layer_names=list(progress.layer_names),
        steps_per_epoch=max(1, progress.total_steps // max(1, progress.epochs)),
        stop_step=progress.step, clipped_fraction=clipped, seconds=float(progress.seconds),
        note=note, ab_of=ab_of, first_steps=copy_first_steps(progress.first_steps),
    )


class RunHistory:
    """The runs of one session, newest last, at most `max_runs` of them."""

    def __init__(self, max_runs: int = MAX_RUNS):
        self.max_runs = max_runs
        self.records: list[RunRecord] = []
        self._next_id = 1

    def new_id(self) -> int:
        """Reserve the next run number.

        Returns:
            an int never used before in this session.
        """
        run_id, self._next_id = self._next_id, self._next_id + 1
        return run_id

    def add(self, record: RunRecord) -> list[RunRecord]:
        """Keep `record`, dropping the oldest runs beyond the bound.

        Args:
            record: the run to keep.
        Returns:
            the records dropped to stay within max_runs.
        """
        self._next_id = max(self._next_id, record.run_id + 1)
        self.records.append(record)
        dropped = self.records[: -self.max_runs]
        self.records = self.records[-self.max_runs :]
        return dropped

    def get(self, run_id: Optional[int]) -> Optional[RunRecord]:
        """The run with this number, if still kept.

        Args:
            run_id: a run number.
        Returns:
            the RunRecord or None.
        """
        return next((record for record in self.records if record.run_id == run_id), None)

    def delete(self, run_ids: Iterable[int]) -> int:
        """Forget the given runs.

        Args:
            run_ids: run numbers to delete.
        Returns:
            how many runs were deleted.
        """
        doomed = set(run_ids)
        before = len(self.records)
        self.records = [record for record in self.records if record.run_id not in doomed]
        return before - len(self.records)

    def import_records(self, records: Sequence[RunRecord]) -> list[RunRecord]:
        """Add imported runs under new numbers, so they never collide with this session's.

        Args:
            records: validated records from `runs_from_json`.
        Returns:
            the records as stored (renumbered).
        """
        stored = []
        renumbered = {}
        for record in records:
            new_id = self.new_id()
            renumbered[record.run_id] = new_id
            stored.append(dataclasses.replace(
                record, run_id=new_id, source="imported", ab_of=renumbered.get(record.ab_of)))
        for record in stored:
            self.add(record)
        return stored

    @property
    def latest(self) -> Optional[RunRecord]:
        """The newest run.

        Returns:
            a RunRecord or None when there are no runs.
        """
        return self.records[-1] if self.records else None

    def __len__(self) -> int:
        return len(self.records)


# ----------------------------------------------------------------------
# Labels, tables and metric series
# ----------------------------------------------------------------------
def short_settings(config: TrainConfig) -> str:
    """A few words naming the settings that matter most, e.g. "Adam lr 0.001, 300-100 relu".

    Args:
        config: the run's config.
    Returns:
        a short string.
    """
    text = f"{OPTIMIZER_LABELS[config.optimizer]} lr {config.learning_rate:g}"
    text += f", {'-'.join(map(str, config.hidden_units))} {config.activation}"
    if config.clip != "none":
        text += f", clip {config.clip.replace('_', ' ')} {config.clip_threshold:g}"
    if config.batch_norm != "none":
        text += f", BN {config.batch_norm}"
    return text


def run_label(record: RunRecord) -> str:
    """The name of a run in pickers and legends, e.g. "#3 Adam lr 0.001, 300-100 relu (84.1%)" or "(stopped, 61.7%)".

    Args:
        record: the run.
    Returns:
        a short string that starts with the run number.
    """
    outcome = [] if record.status == "completed" else [record.status.replace("_", " ")]
    if record.test_accuracy is not None:
        outcome.append(f"{record.test_accuracy:.1%}")
    return f"#{record.run_id} {short_settings(record.config)} ({', '.join(outcome)})"


def metric_label(metric: str) -> str:
    """The words for a metric key, e.g. "validation accuracy" for "val_accuracy".

    Args:
        metric: a key of EPOCH_METRICS or STEP_METRICS.
    Returns:
        a short label.
    """
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def setting_values(config: TrainConfig) -> dict[str, Any]:
    """The config as table cells: unused optimizer and clipping parameters become None.

    Args:
        config: the run's config.
    Returns:
        dict of field name to a printable value.
    """
    values = config.to_dict()
    values["hidden_units"] = "-".join(map(str, config.hidden_units))
    values["train_size"] = config.train_size or "all"
    values["early_stopping_patience"] = config.early_stopping_patience or "off"
    for parameter in ("decay", "momentum", "rho", "beta_1", "beta_2", "epsilon"):
        if parameter not in OPTIMIZER_PARAMETERS[config.optimizer]:
            values[parameter] = None
    if config.clip == "none":
        values["clip_threshold"] = None
    if config.kernel_initializer not in ("random_normal", "random_uniform"):
        values["init_stddev"] = None
    return values


def differing_settings(records: Sequence[RunRecord]) -> list[str]:
    """Settings whose value is not the same in all the given runs.

    Args:
        records: the runs to compare.
    Returns:
        field names in TrainConfig order.
    """
    rows = [setting_values(record.config) for record in records]
    return [name for name in FIELD_TYPES if len({repr(row[name]) for row in rows}) > 1]


def compare_table(records: Sequence[RunRecord]):
    """One row per run: outcome columns, then the settings (by their labels), differing ones first.

    Args:
        records: the runs to show.
    Returns:
        a pandas DataFrame indexed by run label "#n".
    """
    import pandas as pd

    differing = differing_settings(records)
    same = [name for name in FIELD_TYPES if name not in differing]
    rows = []
    for record in records:
        settings = setting_values(record.config)
        rows.append({
            "run": f"#{record.run_id}", "status": record.status.replace("_", " "),
            "test accuracy": record.test_accuracy, "val accuracy": record.final_val_accuracy,
            "epochs done": record.epochs_done, "seconds": round(record.seconds, 1),
            **{setting_label(name): UNUSED if settings[name] is None else settings[name] for name in differing + same},
        })
    return pd.DataFrame(rows).set_index("run")


def highlight_differences(frame, differing: Sequence[str], color: str = "#FFE8A3"):
    """A pandas Styler that paints the columns of differing settings.

    Args:
        frame: a compare_table frame.
        differing: field names of the settings to paint (their labelled columns).
        color: the background colour.
    Returns:
        a pandas Styler (st.dataframe shows its colours).
    """
    percent = [name for name in ("test accuracy", "val accuracy") if name in frame.columns]
    numbers = [name for name in frame.columns if name not in percent and name != "seconds"]
    styler = frame.style.format("{:.1%}", subset=percent, na_rep="").format(
        _cell, subset=numbers)
    if "seconds" in frame.columns:
        styler = styler.format("{:.1f}", subset=["seconds"], na_rep="")
    columns = [setting_label(name) for name in differing if setting_label(name) in frame.columns]
    if columns:
        styler = styler.set_properties(subset=columns, **{"background-color": color, "font-weight": "bold"})
    return styler


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def metric_series(record: RunRecord, metric: str, x_axis: str) -> tuple[list, list]:
    """The x and y values of one metric of a run, against "epoch" or "step".

    Args:
        record: the run.
        metric: a key of EPOCH_METRICS (x_axis "epoch") or STEP_METRICS (x_axis "step").
        x_axis: "epoch" or "step".
    Returns:
        (x values, y values); non-finite values become None so plots show a gap.
    """
    if x_axis == "epoch":
        if metric not in EPOCH_METRICS:
            raise ValueError(f"against epoch, metric must be one of {', '.join(EPOCH_METRICS)}")
        xs, ys = record.history.get("epoch", []), record.history.get(metric, [])
    elif x_axis == "step":
        if metric not in STEP_METRICS:
            raise ValueError(f"against step, metric must be one of {', '.join(STEP_METRICS)}")
        xs = [entry["step"] for entry in record.step_log]
        ys = [entry.get(metric) for entry in record.step_log]
    else:
        raise ValueError(f"x_axis must be 'epoch' or 'step', got {x_axis!r}")
    return list(xs), [finite_or_none(y) for y in ys]


def gallery_selection(record: RunRecord, test_labels: np.ndarray, misclassified_only: bool = False,
                      true_class: Optional[int] = None) -> tuple[np.ndarray, np.ndarray]:
    """The sampled test images to show in the predictions gallery, mistakes first.

    Args:
        record: a run with a predictions sample.
        test_labels: the dataset's test labels.
        misclassified_only: keep only images the run got wrong.
        true_class: keep only images of this class (None keeps all).
    Returns:
        (test indices, their probability rows); wrong predictions come first, most confident first.
    """
    if record.sample_indices is None:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    inside = record.sample_indices < len(test_labels)  # an imported run may come from a larger test set
    indices, probabilities = record.sample_indices[inside], record.sample_probabilities[inside]
    labels = test_labels[indices]
    predicted = np.argmax(probabilities, axis=1)
    keep = np.ones(len(indices), dtype=bool)
    if misclassified_only:
        keep &= predicted != labels
    if true_class is not None:
        keep &= labels == true_class
    indices, probabilities, wrong = indices[keep], probabilities[keep], (predicted != labels)[keep]
    confidence = probabilities.max(axis=1) if len(probabilities) else np.zeros(0)
    order = np.lexsort((-confidence, ~wrong))  # wrong first, then by confidence, highest first
    return indices[order], probabilities[order]


# ----------------------------------------------------------------------
# Same-seed A/B
# ----------------------------------------------------------------------
# The values the A/B offers per setting: the Training Lab form's own options (lab.config.SETTINGS).
AB_CHOICES: dict[str, tuple] = {name: SETTINGS[name].ab_values() for name in AB_SETTINGS}


def ab_config(config: TrainConfig, setting: str, value: Any) -> TrainConfig:
    """The B of a same-seed A/B pair: `config` with one setting changed, seed kept.

    With the same seed, the split, the initial weights (when the layer shapes
    stay the same) and the batch order stay identical, so a difference in the
    curves is due to the changed setting alone.

    Args:
        config: the A run's config.
        setting: a key of AB_CHOICES.
        value: the new value.
    Returns:
        a validated TrainConfig (ValueError when the combination is invalid).
    """
    if setting not in AB_CHOICES:
        raise ValueError(f"setting must be one of {', '.join(AB_CHOICES)}; got {setting!r}")
    return dataclasses.replace(config, **{setting: value})


def ab_note(run_id: int, setting: str, old: Any, new: Any) -> str:
    """The note on a B run, e.g. "B of #3: learning_rate 0.01 -> 0.1 (same seed)".

    Args:
        run_id: the A run.
        setting: the changed field.
        old: A's value.
        new: B's value.
    Returns:
        a short string.
    """
    def text(value):
        return f"{value:g}" if isinstance(value, float) else str(value)

    return f"B of #{run_id}: {setting} {text(old)} -> {text(new)} (same seed)"


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


# ----------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------
def _clean(value):
    """JSON-ready: numpy to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value


def record_to_dict(record: RunRecord) -> dict:
    """A JSON-ready dict of a run (probabilities rounded to 4 decimals).

    Args:
        record: the run.
    Returns:
        plain dict; non-finite numbers become null.
    """
    data = {
        "run_id": record.run_id, "config": record.config.to_dict(), "status": record.status,
        "detail": record.detail, "history": record.history,
        "step_log": [{key: entry.get(key) for key in STEP_KEYS} for entry in record.step_log],
        "layer_names": record.layer_names, "steps_per_epoch": record.steps_per_epoch,
        "stop_step": record.stop_step, "clipped_fraction": record.clipped_fraction, "seconds": record.seconds,
        "test_loss": record.test_loss, "test_accuracy": record.test_accuracy,
        "confusion_matrix": record.confusion_matrix, "sample_indices": record.sample_indices,
        "sample_probabilities": (None if record.sample_probabilities is None
                                 else np.round(record.sample_probabilities.astype(np.float64), 4)),
        "note": record.note, "ab_of": record.ab_of, "first_steps": record.first_steps,
    }
    return _clean(data)


def runs_to_json(records: Sequence[RunRecord]) -> str:
    """The runs as a JSON document that `runs_from_json` reads back.

    Args:
        records: runs to export.
    Returns:
        JSON text (standard JSON: no NaN).
    """
    document = {"format": FILE_FORMAT, "version": FILE_VERSION, "runs": [record_to_dict(r) for r in records]}
    return json.dumps(document, allow_nan=False, separators=(",", ":"))


def runs_to_csv(records: Sequence[RunRecord]) -> str:
    """One CSV row per run: outcome, final metrics and every setting.

    Args:
        records: runs to export.
    Returns:
        CSV text with a header row.
    """
    import pandas as pd

    rows = []
    for record in records:
        history = record.history
        last = {key: (history.get(key) or [None])[-1] for key in ("loss", "accuracy", "val_loss", "val_accuracy")}
        rows.append({
            "run": record.run_id, "status": record.status, "test_accuracy": record.test_accuracy,
            "test_loss": record.test_loss, **{f"final_{key}": finite_or_none(v) for key, v in last.items()},
            "epochs_done": record.epochs_done, "steps": record.stop_step, "seconds": round(record.seconds, 3),
            "clipped_fraction": record.clipped_fraction, "source": record.source, "note": record.note,
            **{name: value for name, value in record.config.to_dict().items() if name != "hidden_units"},
            "hidden_units": "-".join(map(str, record.config.hidden_units)),
        })
    buffer = io.StringIO()
    pd.DataFrame(rows).to_csv(buffer, index=False)
    return buffer.getvalue()


# ----------------------------------------------------------------------
# Import
# ----------------------------------------------------------------------
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_SHORT_TEXT = {"type": "string", "maxLength": 500}
_RATIO = {"type": ["number", "null"], "minimum": 0, "maximum": 1}


def _number_list(max_items: int, minimum=None, maximum=None, nullable: bool = True) -> dict:
    item: dict[str, Any] = {"type": ["number", "null"] if nullable else "number"}
    if minimum is not None:
        item["minimum"] = minimum
    if maximum is not None:
        item["maximum"] = maximum
    return {"type": "array", "maxItems": max_items, "items": item}


_HISTORY_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["epoch", "loss", "val_loss"],
    "properties": {
        "epoch": _number_list(50, 1, 50, nullable=False),
        "loss": _number_list(50, 0), "val_loss": _number_list(50, 0),
        "accuracy": _number_list(50, 0, 1), "val_accuracy": _number_list(50, 0, 1),
        "learning_rate": _number_list(50, 0, 10), "seconds": _number_list(50, 0, 86_400),
    },
}
_STEP_SCHEMA = {
    # Every key is required (null allowed), because the plots read each one; the export writes them all.
    "type": "object", "additionalProperties": False, "required": list(STEP_KEYS),
    "properties": {
        "step": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
        "epoch": {"type": ["number", "null"], "minimum": 0, "maximum": 50},
        "loss": {"type": ["number", "null"], "minimum": 0}, "batch_loss": {"type": ["number", "null"], "minimum": 0},
        "accuracy": _RATIO, "learning_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 10},
        "global_norm": {"type": ["number", "null"], "minimum": 0},
        "clipped_global_norm": {"type": ["number", "null"], "minimum": 0},
        "clipped": {"type": ["boolean", "null"]},
        "layer_norms": _number_list(32, 0), "clipped_layer_norms": _number_list(32, 0),
    },
}
RUN_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["run_id", "config", "status", "history", "step_log", "layer_names"],
    "properties": {
        "run_id": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "config": {"type": "object"},  # checked field by field by TrainConfig.from_dict
        "status": {"enum": list(STATUSES)},
        "detail": _SHORT_TEXT, "note": _SHORT_TEXT,
        "history": _HISTORY_SCHEMA,
        "step_log": {"type": "array", "maxItems": MAX_STEP_POINTS, "items": _STEP_SCHEMA},
        "layer_names": {"type": "array", "minItems": 1, "maxItems": 32,
                        "items": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,40}$"}},
        "steps_per_epoch": {"type": "integer", "minimum": 1, "maximum": 60_000},
        "stop_step": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
        "clipped_fraction": _RATIO, "seconds": {"type": "number", "minimum": 0, "maximum": 86_400},
        "test_loss": {"type": ["number", "null"], "minimum": 0}, "test_accuracy": _RATIO,
        "confusion_matrix": {"type": ["array", "null"], "minItems": 10, "maxItems": 10, "items": {
            "type": "array", "minItems": 10, "maxItems": 10,
            "items": {"type": "integer", "minimum": 0, "maximum": MAX_TEST_IMAGES}}},
        "sample_indices": {"type": ["array", "null"], "maxItems": 400, "uniqueItems": True,
                           "items": {"type": "integer", "minimum": 0, "maximum": MAX_TEST_IMAGES - 1}},
        "sample_probabilities": {"type": ["array", "null"], "maxItems": 400, "items": _number_list(10, 0, 1, False)},
        "ab_of": {"type": ["integer", "null"], "minimum": 1},
        # Optional, so files exported before it existed still import.
        "first_steps": {"type": "object", "additionalProperties": False, "properties": {
            "loss": _number_list(MAX_FIRST_STEPS, 0), "accuracy": _number_list(MAX_FIRST_STEPS, 0, 1)}},
    },
}
FILE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["format", "version", "runs"],
    "properties": {
        "format": {"const": FILE_FORMAT}, "version": {"const": FILE_VERSION},
        "runs": {"type": "array", "minItems": 1, "maxItems": MAX_RUNS, "items": RUN_SCHEMA},
    },
}


def _where(path: Iterable) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "the file"


def _schema_problems(document) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(FILE_SCHEMA)
    errors = sorted(validator.iter_errors(document), key=lambda error: list(map(str, error.absolute_path)))
    return [f"{_where(error.absolute_path)}: {_describe(error)}" for error in errors[:5]]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error) -> str:
    """A short message for one schema error (jsonschema's own repeats the whole offending value)."""
    rule, limit, value = error.validator, error.validator_value, error.instance
    if rule in ("maxItems", "minItems"):
        return f"has {len(value)} items; {'at most' if rule == 'maxItems' else 'at least'} {limit} are allowed"
    if rule in ("minimum", "maximum"):
        return f"{_short(value)} is {'below the minimum' if rule == 'minimum' else 'above the maximum'} {limit}"
    if rule == "type":
        return f"{_short(value)} is not of type {limit}"
    if rule in ("enum", "const"):
        allowed = ", ".join(map(repr, limit)) if rule == "enum" else repr(limit)
        return f"{_short(value)} is not allowed; expected {allowed}"
    return error.message if len(error.message) <= 200 else error.message[:197] + "..."


def _consistency_problem(index: int, run: dict, config: TrainConfig) -> Optional[str]:
    where = f"runs[{index}]"
    lengths = {key: len(values) for key, values in run["history"].items()}
    if len(set(lengths.values())) > 1:
        return f"{where}.history: the lists have different lengths {lengths}"
    if lengths.get("epoch", 0) > config.epochs:
        return f"{where}.history has {lengths['epoch']} epochs but the config trains {config.epochs}"
    layers = len(run["layer_names"])
    for step, entry in enumerate(run["step_log"]):
        for key in ("layer_norms", "clipped_layer_norms"):
            if key in entry and len(entry[key]) != layers:
                return f"{where}.step_log[{step}].{key} has {len(entry[key])} values for {layers} layers"
    indices, probabilities = run.get("sample_indices"), run.get("sample_probabilities")
    if (indices is None) != (probabilities is None) or (indices is not None and len(indices) != len(probabilities)):
        return f"{where}: sample_indices and sample_probabilities must both be given, with one row per index"
    if probabilities is not None and any(len(row) != 10 for row in probabilities):
        return f"{where}.sample_probabilities: every row needs 10 class probabilities"
    return None


def _record_from_dict(run: dict, config: TrainConfig) -> RunRecord:
    history = {key: list(run["history"].get(key, [])) for key in HISTORY_KEYS}
    indices, probabilities = run.get("sample_indices"), run.get("sample_probabilities")
    matrix = run.get("confusion_matrix")
    return RunRecord(
        run_id=run["run_id"], config=config, status=run["status"], detail=run.get("detail", ""),
        history=history, step_log=[dict(entry) for entry in run["step_log"]], layer_names=list(run["layer_names"]),
        steps_per_epoch=run.get("steps_per_epoch") or config.steps_per_epoch_estimate,
        stop_step=run.get("stop_step", 0), clipped_fraction=run.get("clipped_fraction"),
        seconds=float(run.get("seconds", 0.0)), test_loss=run.get("test_loss"), test_accuracy=run.get("test_accuracy"),
        confusion_matrix=None if matrix is None else np.array(matrix, dtype=np.int64),
        sample_indices=None if indices is None else np.array(indices, dtype=np.int64),
        sample_probabilities=None if probabilities is None else np.array(probabilities, dtype=np.float32),
        source="imported", note=run.get("note", ""), ab_of=run.get("ab_of"),
        first_steps=copy_first_steps(run.get("first_steps")),
    )


def runs_from_json(data: bytes) -> list[RunRecord]:
    """Read runs back from `runs_to_json` output, refusing anything suspicious.

    Checks, in order: size (at most MAX_UPLOAD_BYTES), UTF-8 JSON, the schema with
    value ranges (jsonschema), each run's settings (TrainConfig.from_dict), and
    that lists which belong together have matching lengths.

    Args:
        data: the uploaded file's bytes.
    Returns:
        the runs as RunRecords with source "imported".
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise RunFileError(f"The file is {len(data) / 1e6:.1f} MB; a runs file may be at most "
                           f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB.")
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise RunFileError("The file is not UTF-8 text; expected a JSON file exported by the Training Lab.") from None
    except json.JSONDecodeError as error:
        raise RunFileError(f"The file is not valid JSON: {error.msg} at line {error.lineno}, "
                           f"column {error.colno}.") from None
    except ValueError as error:
        raise RunFileError(str(error)) from None
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise RunFileError(f"This is not a Training Lab runs file: it needs \"format\": \"{FILE_FORMAT}\".")
    problems = _schema_problems(document)
    if problems:
        raise RunFileError("The runs file does not match the expected layout: " + "; ".join(problems))
    records = []
    for index, run in enumerate(document["runs"]):
        try:
            config = TrainConfig.from_dict(run["config"])
        except (ValueError, TypeError, OverflowError) as error:
            raise RunFileError(f"runs[{index}].config: {error}") from None
        problem = _consistency_problem(index, run, config)
        if problem:
            raise RunFileError(problem)
        records.append(_record_from_dict(run, config))
    return records


def _refuse_constant(name: str):
    raise ValueError(f"The file contains {name}, which is not standard JSON; numbers must be finite or null.")

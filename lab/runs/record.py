"""Run records: the bounded, plain-data summary of one run, and a session's history of them.

A `RunRecord` keeps a run's config, the per-epoch history, a thinned step log,
test metrics, per-class accuracy, the confusion matrix and the predicted
probabilities of a fixed sample of test images (never all 10,000, so a
session's memory stays small). `RunHistory` keeps the last `MAX_RUNS` of them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import numpy as np

from lab.config import TrainConfig
from lab.results import diverged_step

__all__ = [  # what the package re-exports
    "MAX_RUNS", "MAX_STEP_POINTS", "MAX_FIRST_STEPS", "FIRST_STEP_METRICS", "SAMPLE_PER_CLASS",
    "SAMPLE_MISCLASSIFIED", "MAX_TEST_IMAGES", "STATUSES", "SOURCES", "HISTORY_KEYS", "STEP_KEYS", "RunRecord",
    "finite_or_none", "thin_step_log", "copy_first_steps", "prediction_sample", "record_from_result",
    "record_from_progress", "RunHistory",
]


MAX_RUNS = 20  # runs kept per session; the oldest is dropped first
MAX_STEP_POINTS = 300  # step-log entries kept per run (thinned evenly, the last always kept)
# Per-step values kept from step 0: lab.training keeps whole chunks that start within its
# first 100 steps, and a chunk has at most 1,000 steps (log_every's largest value).
MAX_FIRST_STEPS = 1_100
FIRST_STEP_METRICS = ("loss", "accuracy")
SAMPLE_PER_CLASS = 20  # test images per class in the predictions sample
SAMPLE_MISCLASSIFIED = 60  # extra misclassified test images in the sample
MAX_TEST_IMAGES = 10_000  # the largest test set (Fashion-MNIST, MNIST)
STATUSES = ("completed", "early_stopped", "diverged", "cancelled", "stopped", "time_budget")
SOURCES = ("trained", "cache", "shared", "imported")
HISTORY_KEYS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")
STEP_KEYS = ("step", "epoch", "loss", "batch_loss", "accuracy", "learning_rate", "global_norm",
             "clipped_global_norm", "clipped", "layer_norms", "clipped_layer_norms")


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
        """The step a diverged run is marked at, as `TrainResult.diverged_at` counts it; None if it did not."""
        return diverged_step(self.status, self.stop_step)

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

"""Comparing runs: labels in words, the settings table with its differences, metric series and the same-seed A/B."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional, Sequence

import numpy as np

from lab.config import (
    AB_SETTINGS,
    FIELD_TYPES,
    OPTIMIZER_LABELS,
    OPTIMIZER_PARAMETERS,
    SETTINGS,
    TrainConfig,
    setting_label,
)
from lab.runs.record import RunRecord, finite_or_none

__all__ = [  # what the package re-exports
    "EPOCH_METRICS", "STEP_METRICS", "METRIC_LABELS", "UNUSED", "MISSING", "dash_missing", "with_dashes", "as_text",
    "short_settings", "run_label", "metric_label",
    "setting_values", "differing_settings", "compare_table", "highlight_differences", "metric_series",
    "gallery_selection", "AB_CHOICES", "ab_config", "ab_note",
]


EPOCH_METRICS = ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")
STEP_METRICS = ("loss", "batch_loss", "accuracy", "learning_rate", "global_norm")
# Words for students in place of the code's keys; a key without an entry reads with spaces for underscores.
METRIC_LABELS = {
    "loss": "training loss", "val_loss": "validation loss", "accuracy": "training accuracy",
    "val_accuracy": "validation accuracy", "learning_rate": "learning rate", "batch_loss": "batch loss",
    "global_norm": "gradient norm (all layers)",
}
UNUSED = "not used"  # a table cell for a parameter this run's optimizer, clipping or initializer does not read
# A table cell for a value a run does not have (the test accuracy of a diverged run). Streamlit's grid writes "None"
# for a missing cell whatever a pandas Styler says, so the cell itself holds the dash.
MISSING = "\u2014"


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
    formats = {**{name: "{:.1%}" for name in percent}, **{name: _cell for name in numbers}}
    styler = _styled(frame, {**formats, **({"seconds": "{:.1f}"} if "seconds" in frame.columns else {})})
    columns = [setting_label(name) for name in differing if setting_label(name) in frame.columns]
    if columns:
        styler = styler.set_properties(subset=columns, **{"background-color": color, "font-weight": "bold"})
    return styler


def dash_missing(frame):
    """A copy of a table with an em dash in every missing cell (None or NaN), for st.dataframe and st.table.

    Args:
        frame: a pandas DataFrame.
    Returns:
        a DataFrame whose columns with a missing cell hold text: MISSING there, the value elsewhere.
    """
    return as_text(frame, {})


def with_dashes(frame, formats: dict):
    """A Styler of a table with an em dash in every missing cell and the listed columns' numbers formatted.

    Args:
        frame: a pandas DataFrame.
        formats: column -> format spec such as "{:.3f}"; columns not in the frame are skipped.
    Returns:
        a pandas Styler for st.dataframe or st.table.
    """
    return _styled(frame, {column: spec for column, spec in formats.items() if column in frame.columns})


def as_text(frame, formats: dict):
    """A copy of a table whose columns with a missing cell or a word hold text, numbers formatted as elsewhere.

    A column that mixes numbers with a dash cannot travel to the browser as Arrow (Streamlit then logs
    a traceback and converts it itself), and a grid writes "None" for a missing number, so such a
    column is written out here. Columns without a missing cell keep their numbers.

    Args:
        frame: a pandas DataFrame.
        formats: column -> a format spec such as "{:.1%}", or a function of the value; other columns
            with a missing cell are written with `_cell`.
    Returns:
        a new DataFrame.
    """
    table = frame.copy()
    for column in table.columns:
        # A column of numbers with a word in it ("not used" for momentum in an SGD run) is text too.
        mixed = len({isinstance(value, str) for value in table[column]}) > 1
        if mixed or table[column].isna().any():
            table[column] = [_text(value, formats.get(column) or _cell) for value in table[column]]
    return table


def _styled(frame, formats: dict):
    """`as_text` of the table, as a Styler that formats the numbers of the columns that kept them."""
    styler = as_text(frame, formats).style
    for column, spec in formats.items():
        if not frame[column].isna().any():
            styler = styler.format(spec, subset=[column])
    return styler


def _text(value, spec) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, str):
        return value
    return spec(value) if callable(spec) else spec.format(value)


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
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

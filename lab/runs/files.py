"""Runs as CSV and JSON, and the strict JSON import.

Files are parsed as JSON only, never unpickled or evaluated: the size, the
schema and the value ranges are checked, and settings go through
`TrainConfig.from_dict`.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from lab.config import TrainConfig
from lab.runs.record import (
    HISTORY_KEYS,
    MAX_FIRST_STEPS,
    MAX_RUNS,
    MAX_STEP_POINTS,
    MAX_TEST_IMAGES,
    STATUSES,
    STEP_KEYS,
    RunRecord,
    copy_first_steps,
    finite_or_none,
)

__all__ = [  # what the package re-exports
    "MAX_UPLOAD_BYTES", "FILE_FORMAT", "FILE_VERSION", "RunFileError", "record_to_dict", "runs_to_json",
    "runs_to_csv", "RUN_SCHEMA", "FILE_SCHEMA", "runs_from_json",
]


MAX_UPLOAD_BYTES = 4 * 1024 * 1024
FILE_FORMAT = "optimisation-lab-runs"
FILE_VERSION = 1


class RunFileError(ValueError):
    """An uploaded runs file was refused; the message says what is wrong and where."""


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

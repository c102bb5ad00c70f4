"""What a training run reports and returns: plain data that crosses the worker's pipe.

`TrainProgress` is the snapshot `on_progress` receives while a run is under way,
and `TrainResult` everything a finished (or stopped) run produced. Both are
plain dataclasses of lists, numbers and NumPy arrays, so the Streamlit server
can unpickle, cache and draw them without importing TensorFlow (lab.training,
which produces them, runs only in the training worker).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from lab.config import TrainConfig

STOP_REASONS = ("completed", "early_stopped", "diverged", "cancelled")


@dataclass
class TrainProgress:
    """A snapshot handed to `on_progress` while a run is under way."""

    epoch: int  # epochs completed so far
    epochs: int
    step: int  # gradient steps taken so far
    total_steps: int
    seconds: float  # since the run started
    history: dict[str, list[float]]  # per-epoch metrics of completed epochs
    step_log: list[dict]  # every `log_every` steps
    layer_names: list[str]
    # Per-step "loss" and "accuracy" of the first lab.training.FIRST_STEPS steps; index i is step i's batch.
    first_steps: dict[str, list[float]] = field(default_factory=dict)

    @property
    def steps_per_epoch(self) -> int:
        """Gradient steps in one epoch (the planned steps are whole epochs).

        Returns:
            a whole number, at least 1.
        """
        return max(1, self.total_steps // max(1, self.epochs))

    @property
    def fraction(self) -> float:
        """Share of the planned steps already taken.

        Returns:
            a number in [0, 1].
        """
        return min(1.0, self.step / max(1, self.total_steps))

    @property
    def eta_seconds(self) -> Optional[float]:
        """Estimated seconds left, from the pace so far.

        Returns:
            seconds, or None before the first step.
        """
        if self.step == 0:
            return None
        return self.seconds / self.step * (self.total_steps - self.step)


@dataclass
class TrainResult:
    """Everything a finished (or stopped) run produced, as plain data."""

    config: TrainConfig
    history: dict[str, list[float]]  # epoch, loss, accuracy, val_loss, val_accuracy, learning_rate, seconds
    step_log: list[dict]  # step, epoch, loss, batch_loss, accuracy, learning_rate, norms per layer
    layer_names: list[str]  # layers with trainable weights, input side first
    stop_reason: str  # one of STOP_REASONS
    stop_epoch: int  # epochs completed when the run ended
    stop_step: int  # gradient steps taken when the run ended
    stop_detail: str  # one sentence for students
    steps_per_epoch: int
    clipped_steps: int  # steps at which clipping changed the gradient
    seconds: float  # wall time of the whole run
    test_loss: Optional[float] = None
    test_accuracy: Optional[float] = None
    test_probabilities: Optional[np.ndarray] = None  # (n_test, classes) float32
    confusion_matrix: Optional[np.ndarray] = None  # rows are true classes, columns predicted
    best_epoch: Optional[int] = None  # epoch whose weights were restored by early stopping
    first_progress_seconds: Optional[float] = None  # time to the first on_progress call
    # Per-step "loss" and "accuracy" of the chunks that start within the first lab.training.FIRST_STEPS steps;
    # index i is step i's batch, whose loss was computed at the weights before step i.
    first_steps: dict[str, list[float]] = field(default_factory=dict)

    @property
    def diverged_at(self) -> Optional[int]:
        """The step whose batch loss diverged, numbered like the charts (step 0 is the first batch).

        Returns:
            the last step a diverged run took (its stop step minus one), else None.
        """
        return diverged_step(self.stop_reason, self.stop_step)

    @property
    def clipped_fraction(self) -> float:
        """Share of the steps at which clipping was active.

        Returns:
            a number in [0, 1].
        """
        return self.clipped_steps / max(1, self.stop_step)

    def history_frame(self):
        """Per-epoch history as a pandas DataFrame.

        Returns:
            DataFrame with one row per completed epoch.
        """
        import pandas as pd

        return pd.DataFrame(self.history)

    def step_frame(self):
        """The step log as a pandas DataFrame with one column per layer norm.

        Returns:
            DataFrame with one row per logged step.
        """
        import pandas as pd

        return pd.DataFrame([flatten_step(entry, self.layer_names) for entry in self.step_log])


def flatten_step(entry: dict, layer_names: list[str]) -> dict:
    """Spread a step-log entry's per-layer lists into one column per layer.

    Args:
        entry: one step-log dict.
        layer_names: names matching the per-layer lists.
    Returns:
        a flat dict such as {"grad_norm hidden_1": ..., "clipped_norm hidden_1": ...}.
    """
    flat = {key: value for key, value in entry.items() if not isinstance(value, list)}
    for name, before, after in zip(layer_names, entry["layer_norms"], entry["clipped_layer_norms"]):
        flat[f"grad_norm {name}"] = before
        flat[f"clipped_norm {name}"] = after
    return flat


def diverged_step(stop_reason: str, stop_step: int) -> Optional[int]:
    """The step whose batch loss diverged, numbered like the charts (step 0 is the first batch).

    Args:
        stop_reason: how the run ended ("diverged", "completed", ...).
        stop_step: gradient steps taken when it ended.
    Returns:
        the last step a diverged run took (its stop step minus one), else None.
    """
    return stop_step - 1 if stop_reason == "diverged" else None

"""Gradient clipping: a calculator for one gradient vector and a rescued training run.

The calculator does not re-implement clipping: it hands the vector to a real
Keras SGD optimizer with learning rate 1 and `clipvalue` or `clipnorm`, so the
step the optimizer takes is exactly the clipped gradient. The training
experiment runs the lecture's model twice from the same seed, once without
clipping and once with it, at a learning rate that makes the first run diverge.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import plotly.graph_objects as go

from lab.claims import Claim
from lab.config import TrainConfig, float_literal
from lab.plots import COLORS, LEGEND, REFERENCE_COLOR, per_step_losses, readable_log_ticks

MAX_COMPONENTS = 1_000  # a gradient typed by hand never needs more; bounds the work
MAX_MAGNITUDE = 1e18  # Keras clips in float32, where the squared norm of larger entries overflows
SLIDE_VECTOR = (0.1, 10.0)  # the slides' example gradient
SLIDE_CLIPNORM_PRINTED = (0.00999995, 0.999995)  # what the slides print for clipnorm=1.0
CLIP_MODES = ("value", "norm")  # the two the calculator compares side by side
MODE_LABELS = {"value": "clipvalue", "norm": "clipnorm", "global_norm": "global_clipnorm", "none": "no clipping"}
# The training experiment offers the modes by their Keras argument names: that is what students
# type in Keras, and what a shared link carries (?clip_mode=clipnorm).
CLIP_ARGUMENTS = {"clipnorm": "norm", "clipvalue": "value", "global_clipnorm": "global_norm"}


def parse_vector(text: str) -> np.ndarray:
    """Turn comma-separated numbers such as "0.1, 10" into a float vector, never evaluating code.

    Args:
        text: numbers separated by commas; one pair of surrounding brackets is allowed.
    Returns:
        a 1-D float64 array of finite numbers.
    Raises:
        ValueError: with a message that names the first bad entry.
    """
    cleaned = text.strip()
    if cleaned.startswith("[") and cleaned.endswith("]"):
        cleaned = cleaned[1:-1]
    if not cleaned.strip():
        raise ValueError("Type at least one number, for example 0.1, 10")
    parts = [part.strip() for part in cleaned.split(",")]
    if len(parts) > MAX_COMPONENTS:
        raise ValueError(f"At most {MAX_COMPONENTS:,} numbers, got {len(parts):,}")
    values = []
    for position, part in enumerate(parts, start=1):
        try:
            # float() only reads a number literal; it never runs code.
            value = float(part)
        except ValueError:
            raise ValueError(f"Entry {position} ({part!r}) is not a number; use numbers separated by commas") from None
        if not math.isfinite(value):
            raise ValueError(f"Entry {position} ({part!r}) must be a finite number")
        if abs(value) > MAX_MAGNITUDE:
            raise ValueError(f"Entry {position} ({part!r}) is too large: use numbers between -1e18 and 1e18, "
                             "because Keras computes the norm in float32")
        values.append(value)
    return np.array(values, dtype=np.float64)


def clip_with_keras(gradient: np.ndarray, mode: str, threshold: float = 1.0) -> np.ndarray:
    """Clip a gradient exactly as a Keras optimizer does, by taking one SGD step with lr 1.

    Args:
        gradient: the gradient vector.
        mode: "value" (clipvalue), "norm" (clipnorm) or "global_norm" (global_clipnorm).
        threshold: the clipping threshold.
    Returns:
        the clipped gradient as float64 (the optimizer computes in float32).
    """
    import keras

    from lab.optimizers import build_optimizer

    optimizer = build_optimizer(TrainConfig(optimizer="sgd", learning_rate=1.0, clip=mode, clip_threshold=threshold))
    variable = keras.Variable(np.zeros(len(gradient), dtype=np.float32))
    optimizer.apply_gradients([(keras.ops.convert_to_tensor(np.asarray(gradient, dtype=np.float32)), variable)])
    # SGD with learning rate 1 moves the variable by minus the (clipped) gradient.
    return -variable.numpy().astype(np.float64)


def angle_degrees(first: np.ndarray, second: np.ndarray) -> float:
    """The angle between two vectors in degrees (0 when one of them is zero).

    Args:
        first: a vector.
        second: a vector of the same length.
    Returns:
        the angle in [0, 180].
    """
    norms = np.linalg.norm(first) * np.linalg.norm(second)
    if norms == 0:
        return 0.0
    cosine = float(np.clip(np.dot(first, second) / norms, -1.0, 1.0))
    return math.degrees(math.acos(cosine))


@dataclass(frozen=True)
class ClipComparison:
    """A gradient and what clipvalue and clipnorm make of it."""

    gradient: np.ndarray
    threshold: float
    clipped: dict  # mode -> clipped vector
    angles: dict  # mode -> degrees between the clipped vector and the original

    def table(self):
        """One row per vector: its components, norm and angle to the original.

        Returns:
            a pandas DataFrame.
        """
        import pandas as pd

        rows = [{"vector": "original gradient", "components": _format(self.gradient),
                 "norm": float(np.linalg.norm(self.gradient)), "angle to original (degrees)": 0.0}]
        for mode, vector in self.clipped.items():
            rows.append({"vector": f"{MODE_LABELS[mode]}={self.threshold:g}", "components": _format(vector),
                         "norm": float(np.linalg.norm(vector)), "angle to original (degrees)": self.angles[mode]})
        return pd.DataFrame(rows)


def _format(vector: np.ndarray, limit: int = 6) -> str:
    # Six significant digits: the optimizer computes in float32, so more would show rounding noise.
    shown = ", ".join(f"{value:.6g}" for value in vector[:limit])
    return f"[{shown}{', ...' if len(vector) > limit else ''}]"


def compare_clipping(gradient: np.ndarray, threshold: float = 1.0) -> ClipComparison:
    """Clip one gradient by value and by norm with the real Keras optimizer.

    Args:
        gradient: the gradient vector.
        threshold: used for both clipvalue and clipnorm.
    Returns:
        a ClipComparison with both clipped vectors and their angles to the original.
    """
    clipped = {mode: clip_with_keras(gradient, mode, threshold) for mode in CLIP_MODES}
    angles = {mode: angle_degrees(gradient, vector) for mode, vector in clipped.items()}
    return ClipComparison(gradient=np.asarray(gradient, dtype=np.float64), threshold=threshold,
                          clipped=clipped, angles=angles)


def _arrow(figure: go.Figure, vector: np.ndarray, name: str, color: str, dash: str = "solid") -> None:
    figure.add_trace(go.Scatter(
        x=[0.0, vector[0]], y=[0.0, vector[1]], mode="lines+markers", name=name,
        line=dict(color=color, width=4, dash=dash),
        marker=dict(symbol="arrow", size=[0, 18], angleref="previous", color=color),
        hovertemplate=f"{name}<br>(%{{x:.6g}}, %{{y:.6g}})<extra></extra>",
    ))


def clipping_arrows_figure(comparison: ClipComparison) -> go.Figure:
    """The clipped gradients as arrows, with the original's direction as a dashed arrow.

    A 2-component gradient is drawn as it is. The original is usually much longer
    than the clipped vectors, so it is drawn shortened to the same length as the
    clipnorm arrow; only its direction matters here.

    Args:
        comparison: from `compare_clipping` with a 2-component gradient.
    Returns:
        a Figure with three arrow traces (original direction, clipvalue, clipnorm) on equal axes.
    """
    gradient = comparison.gradient
    norm = np.linalg.norm(gradient)
    reference_length = max(np.linalg.norm(v) for v in comparison.clipped.values()) * 1.15
    direction = gradient / norm * reference_length if norm > 0 else gradient
    figure = go.Figure()
    _arrow(figure, direction, f"direction of the original (length {norm:.6g}, shortened)", REFERENCE_COLOR, dash="dash")
    _arrow(figure, comparison.clipped["value"], f"clipvalue={comparison.threshold:g}", COLORS[3])
    _arrow(figure, comparison.clipped["norm"], f"clipnorm={comparison.threshold:g}", COLORS[0])
    figure.update_layout(
        title="Clipped gradients (equal scale on both axes)", xaxis_title="component 1", yaxis_title="component 2",
        margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.2),
        height=520,
    )
    figure.update_yaxes(scaleanchor="x", scaleratio=1, zeroline=True)
    figure.update_xaxes(zeroline=True)
    return figure


def clipping_bars_figure(comparison: ClipComparison, limit: int = 40) -> go.Figure:
    """Components of the original and the clipped gradients as grouped bars (for any length).

    Args:
        comparison: from `compare_clipping`.
        limit: at most this many components are drawn.
    Returns:
        a Figure with three Bar traces.
    """
    index = [str(i + 1) for i in range(min(limit, len(comparison.gradient)))]
    figure = go.Figure()
    figure.add_trace(go.Bar(x=index, y=comparison.gradient[:limit], name="original", marker_color=REFERENCE_COLOR))
    figure.add_trace(go.Bar(x=index, y=comparison.clipped["value"][:limit],
                            name=f"clipvalue={comparison.threshold:g}", marker_color=COLORS[3]))
    figure.add_trace(go.Bar(x=index, y=comparison.clipped["norm"][:limit],
                            name=f"clipnorm={comparison.threshold:g}", marker_color=COLORS[0]))
    figure.update_layout(
        title="Components before and after clipping", xaxis_title="component", yaxis_title="value",
        barmode="group", margin=dict(l=60, r=20, t=50, b=50),
        legend=dict(orientation="h", y=-0.2),
    )
    return figure


# ----------------------------------------------------------------------
# Training with and without clipping
# ----------------------------------------------------------------------
def rescue_config(
    learning_rate: float = 1.0, clip: str = "norm", clip_threshold: float = 1.0,
    train_size: int = 3_000, epochs: int = 2, seed: int = 42,
) -> TrainConfig:
    """The clipped run of the experiment; its unclipped twin is the same config with clip="none".

    Args:
        learning_rate: SGD learning rate, large enough to diverge without clipping.
        clip: "value", "norm" or "global_norm".
        clip_threshold: the clipping threshold.
        train_size: training images (a stratified subset).
        epochs: passes over them.
        seed: the same initial weights and batch order for both runs.
    Returns:
        a TrainConfig that logs gradient norms every 5 steps.
    """
    return TrainConfig(
        learning_rate=learning_rate, clip=clip, clip_threshold=clip_threshold, train_size=train_size,
        epochs=epochs, seed=seed, validation_size=2_000, log_every=5,
    )


def train_with_and_without_clipping(
    config: TrainConfig, dataset, on_start: Optional[Callable[[str], None]] = None,
    trainer: Optional[Callable] = None,
) -> dict:
    """Train the same run twice, without clipping and with the config's clipping.

    The unclipped run logs every step, so the few steps before it blows up are
    on the chart; logging does not change the training.

    Args:
        config: the clipped run; its clip must not be "none".
        dataset: the shared Dataset.
        on_start: optional callback told "without" or "with" before each run.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default
            (pages pass one that goes through the server's training queue).
    Returns:
        {"without": TrainResult, "with": TrainResult}.
    """
    if trainer is None:
        from lab.training import train as trainer

    if config.clip == "none":
        raise ValueError("choose a clipping mode (value, norm or global_norm) for the clipped run")
    unclipped = dataclasses.replace(config, clip="none", log_every=1)
    results = {}
    for label, run in (("without", unclipped), ("with", config)):
        if on_start is not None:
            on_start(label)
        results[label] = trainer(run, dataset)
    return results


CLIP_EFFECT = {
    "norm": "clipnorm caps each weight tensor on its own (a layer's kernel and its bias separately), so each "
            "layer's dashed line stays at or below \u221a2 times the threshold",
    "global_norm": "global_clipnorm scales all gradients together, so the dashed lines together stay within "
                   "the threshold and keep their proportions",
    "value": "clipvalue caps each single component, so a large layer's dashed line can stay far above the "
             "threshold: many small capped components still add up",
}


def run_label(result) -> str:
    """A legend label such as "clipnorm=1" or "no clipping".

    Args:
        result: a TrainResult.
    Returns:
        a short label naming the clipping of the run.
    """
    if result.config.clip == "none":
        return "no clipping"
    return f"{MODE_LABELS[result.config.clip]}={result.config.clip_threshold:g}"


def clipping_loss_figure(results: dict) -> go.Figure:
    """Training loss per logged step of both runs on a log axis, with the divergence marked.

    Args:
        results: from `train_with_and_without_clipping`.
    Returns:
        a Figure with one line per run (and an x marker where a run diverged).
    """
    figure = go.Figure()
    for index, (label, result) in enumerate(results.items()):
        color = COLORS[3] if result.config.clip == "none" else COLORS[0]
        # Each step's own batch loss, numbered from step 0 like the runs' texts ("rose to ... at step N").
        steps, losses = per_step_losses(result.first_steps, result.step_log)
        figure.add_trace(go.Scatter(x=steps, y=losses, mode="lines+markers", name=f"{run_label(result)}: batch loss",
                                    line=dict(color=color, width=3),
                                    marker=dict(size=9 if result.stop_reason == "diverged" else 5)))
        if result.diverged_at is not None:
            figure.add_vline(x=result.diverged_at, line=dict(color=color, dash="dash"),
                             annotation_text=f"diverged at step {result.diverged_at}", annotation_position="top right")
    figure.update_layout(
        title="Batch loss per step (lr = {:g})".format(next(iter(results.values())).config.learning_rate),
        xaxis_title="step", yaxis_title="batch loss (log scale)",
        margin=dict(l=60, r=20, t=50, b=20), legend=LEGEND,
    )
    figure.update_yaxes(type="log")
    return readable_log_ticks(figure)


def clipping_code(config: TrainConfig) -> str:
    """Keras 3 code of the calculator and of the clipped optimizer.

    Args:
        config: the clipped run (its clip mode and threshold are used).
    Returns:
        Python source as a string.
    """
    return (
        "import keras\n"
        "import numpy as np\n\n"
        "# The calculator: one SGD step with learning rate 1 moves a zero variable by minus the clipped gradient.\n"
        "for clip in ({'clipvalue': 1.0}, {'clipnorm': 1.0}):\n"
        "    optimizer = keras.optimizers.SGD(learning_rate=1.0, **clip)\n"
        "    variable = keras.Variable(np.zeros(2, dtype='float32'))\n"
        "    optimizer.apply_gradients([(keras.ops.convert_to_tensor([0.1, 10.0]), variable)])\n"
        "    print(clip, -variable.numpy())  # clipvalue: [0.1 1.0]; clipnorm: [0.0099995 0.99995]\n\n"
        "# The training run: the same model and data, with the optimizer's own clipping.\n"
        f"optimizer = keras.optimizers.SGD(learning_rate={float_literal(config.learning_rate)}, "
        f"{MODE_LABELS[config.clip]}={float_literal(config.clip_threshold)})\n"
    )


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
HEALTHY_LEARNING_RATE = 0.1  # plain SGD that trains well on the same setup: what a rescue must come close to
# Measured at seeds 42, 43 and 44: global_clipnorm ends 5.9, 9.4 and 10.8 points of validation accuracy below the
# healthy run, and 13.1, 22.8 and 9.5 points above clipnorm; clipnorm ends 18.9 to 32 points below the healthy run.
CLOSEST_MARGIN = 0.10  # global_clipnorm ends within 10 points of the healthy run (5.9 at seed 42)
BEATS_MARGIN = 0.05  # and more than 5 points above clipnorm, beyond the seed-to-seed spread


# The two lecture presets' training runs (lab/preset_lists/topics_11_14.py): learning rate, clip mode, threshold.
PRESET_RUNS = {"preset norm": rescue_config(1.0, "norm", 0.5), "preset value": rescue_config(0.5, "value", 0.1)}


def claims_experiment(dataset, trainer: Optional[Callable] = None) -> dict:
    """Train the rescue setup (rescue_config's defaults, lr 1.0) with each clipping mode, without, and a healthy run.

    Args:
        dataset: the shared Dataset.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default.
    Returns:
        {"none", "value", "norm", "global_norm", "healthy"} -> TrainResult, where "healthy" is plain SGD at
        HEALTHY_LEARNING_RATE; and each PRESET_RUNS label -> {"without", "with"} from train_with_and_without_clipping.
    """
    if trainer is None:
        from lab.training import train as trainer

    base = rescue_config()
    runs = {mode: dataclasses.replace(base, clip=mode) for mode in ("none", "value", "norm", "global_norm")}
    runs["healthy"] = dataclasses.replace(base, clip="none", learning_rate=HEALTHY_LEARNING_RATE)
    results = {label: trainer(config, dataset) for label, config in runs.items()}
    # The lecture presets' runs, as the page trains them (its unclipped run logs every step).
    for label, config in PRESET_RUNS.items():
        results[label] = train_with_and_without_clipping(config, dataset, trainer=trainer)
    return results


def _accuracy(result) -> float:
    if result.stop_reason == "diverged" or not result.history["val_accuracy"]:
        return 0.0
    return float(result.history["val_accuracy"][-1])


def _diverges_early(result) -> bool:
    return result.stop_reason == "diverged" and result.stop_epoch == 0 and result.stop_step < 20


def _global_norm_comes_closest(runs) -> bool:
    return (runs["global_norm"].stop_reason == "completed"
            and _accuracy(runs["global_norm"]) >= _accuracy(runs["healthy"]) - CLOSEST_MARGIN
            and _accuracy(runs["global_norm"]) > _accuracy(runs["norm"]) + BEATS_MARGIN)


def _norm_survives_but_falls_short(runs) -> bool:
    return (runs["norm"].stop_reason == "completed" and _accuracy(runs["norm"]) > 0.3
            and _accuracy(runs["norm"]) < _accuracy(runs["healthy"]) - 0.15)


def _preset_rescue(label: str, diverge_steps: int):
    # The unclipped run diverges within `diverge_steps`; the clipped one completes at about 67% (within 2 points),
    # with more than 95% of its steps clipped.
    def holds(runs) -> bool:
        without, clipped = runs[label]["without"], runs[label]["with"]
        return (without.stop_reason == "diverged" and without.stop_step <= diverge_steps
                and clipped.stop_reason == "completed" and abs(_accuracy(clipped) - 0.67) < 0.02
                and clipped.clipped_fraction > 0.95)
    return holds


PRESET_CLAIMS = (
    Claim("At learning rate 1.0 plain SGD diverges within 3 steps; the same run with clipnorm=0.5 trains to about "
          "67% validation accuracy, with clipping acting on more than 95% of the steps.",
          _preset_rescue("preset norm", 3)),
    Claim("At learning rate 0.5 plain SGD diverges within 14 steps; with clipvalue=0.1 the same run trains to about "
          "67% validation accuracy.", _preset_rescue("preset value", 14)),
)
RESCUE_CLAIMS = (
    Claim("Without clipping, learning rate 1.0 diverges within the first 20 steps.",
          lambda runs: _diverges_early(runs["none"])),
    Claim("`global_clipnorm=1` keeps it training and comes closest to a healthy run (plain SGD at learning rate "
          "0.1): within 10 points of its validation accuracy, and more than 5 points above `clipnorm=1`.",
          _global_norm_comes_closest),
    Claim("`clipnorm=1` only keeps it alive: it clips each weight tensor on its own, and ends more than 15 "
          "points below the healthy run.", _norm_survives_but_falls_short),
    Claim("`clipvalue=1` does not rescue it: capping every component at 1 still lets the run diverge within "
          "the first 20 steps.", lambda runs: _diverges_early(runs["value"])),
)
CLAIMS = RESCUE_CLAIMS + PRESET_CLAIMS

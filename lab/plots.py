"""Plotly figures for training runs. Each function returns a `go.Figure`.

These take plain data (history dicts, step logs, arrays), so they draw a
finished TrainResult and a live TrainProgress alike, and tests can inspect
their traces and axis titles without a browser.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go

# Colour-blind-safe palette (Okabe-Ito), readable on a projector.
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.2))


def _figure(title: str, x_title: str, y_title: str, log_y: bool = False) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, **_LAYOUT)
    if log_y:
        figure.update_yaxes(type="log")
    return figure


def curves_figure(
    history: dict, step_log: Sequence[dict], metric: str = "loss", title: Optional[str] = None
) -> go.Figure:
    """Training and validation curves of one metric against epoch.

    The step log adds a fine-grained training line, so the curve grows during
    the first epoch already; validation points appear at each epoch's end.

    Args:
        history: per-epoch dict with keys such as "loss" and "val_loss".
        step_log: step-log entries with "epoch" (fractional) and the metric.
        metric: "loss" or "accuracy".
        title: optional figure title.
    Returns:
        a Figure with up to three traces: training (per step), training (per epoch), validation.
    """
    figure = _figure(title or metric.capitalize(), "epoch", metric)
    if step_log:
        figure.add_trace(go.Scatter(
            x=[entry["epoch"] for entry in step_log], y=[entry[metric] for entry in step_log],
            mode="lines", name=f"training {metric} (running)", line=dict(color=COLORS[0], width=1), opacity=0.5,
        ))
    if history.get("epoch"):
        figure.add_trace(go.Scatter(
            x=history["epoch"], y=history[metric], mode="lines+markers",
            name=f"training {metric}", line=dict(color=COLORS[0], width=3),
        ))
        figure.add_trace(go.Scatter(
            x=history["epoch"], y=history[f"val_{metric}"], mode="lines+markers",
            name=f"validation {metric}", line=dict(color=COLORS[1], width=3),
        ))
    return figure


def gradient_norms_figure(step_log: Sequence[dict], layer_names: Sequence[str], clipped: bool = False) -> go.Figure:
    """Per-layer gradient norms against step on a log axis.

    Args:
        step_log: step-log entries with "layer_norms" and "clipped_layer_norms".
        layer_names: one name per entry of those lists.
        clipped: also draw the norms after clipping as dashed lines.
    Returns:
        a Figure with one solid trace per layer (and one dashed per layer when clipped).
    """
    figure = _figure("Gradient norm per layer", "step", "gradient norm (log scale)", log_y=True)
    steps = [entry["step"] for entry in step_log]
    for index, name in enumerate(layer_names):
        color = COLORS[index % len(COLORS)]
        figure.add_trace(go.Scatter(
            x=steps, y=[entry["layer_norms"][index] for entry in step_log],
            mode="lines", name=f"{name} before clipping" if clipped else name, line=dict(color=color, width=2),
        ))
        if clipped:
            figure.add_trace(go.Scatter(
                x=steps, y=[entry["clipped_layer_norms"][index] for entry in step_log],
                mode="lines", name=f"{name} after clipping", line=dict(color=color, width=2, dash="dash"),
            ))
    return figure


def learning_rate_figure(step_log: Sequence[dict]) -> go.Figure:
    """The learning rate in force at each logged step.

    Args:
        step_log: step-log entries with "step" and "learning_rate".
    Returns:
        a Figure with one trace.
    """
    figure = _figure("Learning rate", "step", "learning rate")
    figure.add_trace(go.Scatter(
        x=[entry["step"] for entry in step_log], y=[entry["learning_rate"] for entry in step_log],
        mode="lines", name="learning rate", line=dict(color=COLORS[2], width=3),
    ))
    return figure


def confusion_matrix_figure(matrix: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Heatmap of a confusion matrix with class names on both axes.

    Args:
        matrix: counts, rows are true classes and columns predicted classes.
        class_names: one label per class.
    Returns:
        a Figure with one Heatmap trace.
    """
    figure = _figure("Confusion matrix (test set)", "predicted class", "true class")
    figure.add_trace(go.Heatmap(
        z=matrix, x=list(class_names), y=list(class_names), colorscale="Blues",
        text=matrix, texttemplate="%{text}", hovertemplate="true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>",
    ))
    figure.update_yaxes(autorange="reversed")
    return figure

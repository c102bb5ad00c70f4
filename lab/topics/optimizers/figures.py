"""The Faster optimizers page's Plotly figures: surfaces and paths, the race, and the effective learning rates."""

from __future__ import annotations

from typing import Optional

import numpy as np
import plotly.graph_objects as go

from lab.plots import REFERENCE_COLOR, readable_log_ticks
from lab.topics.optimizers.surfaces import LABELS, OPTIMIZER_COLORS, REFERENCE_STEP, SURFACES

__all__ = [  # what the package re-exports
    "surface_figure", "loss_by_step_figure", "race_figure", "race_steps_figure", "race_table",
    "effective_rate_figure", "effective_rate_2d_figure",
]


# ----------------------------------------------------------------------
# Figures of the 2-D experiment
# ----------------------------------------------------------------------
def surface_figure(surface_key: str, trajectories: dict, upto: Optional[int] = None) -> go.Figure:
    """Contours of the surface with every trajectory drawn up to step `upto`.

    Args:
        surface_key: a key of SURFACES.
        trajectories: from `run_trajectories`.
        upto: last step to draw (None draws all).
    Returns:
        a Figure: one Contour trace, then one line per optimizer, then the start and minima markers.
    """
    surface = SURFACES[surface_key]
    xs = np.linspace(*surface.x_range, 160)
    ys = np.linspace(*surface.y_range, 120)
    grid_x, grid_y = np.meshgrid(xs, ys)
    z = surface.function(grid_x, grid_y)
    # Log-spaced contour heights make the flat valley floor as visible as the steep walls.
    shifted = np.log10(z - z.min() + 1e-3)
    figure = go.Figure(go.Contour(
        x=xs, y=ys, z=shifted, colorscale="Greys", reversescale=True, showscale=False, opacity=0.55,
        contours=dict(coloring="heatmap", showlines=True), ncontours=25, name="loss", hoverinfo="skip",
    ))
    for name, trajectory in trajectories.items():
        points = trajectory.points if upto is None else trajectory.points[: upto + 1]
        figure.add_trace(go.Scatter(
            x=points[:, 0], y=points[:, 1], mode="lines+markers", name=LABELS[name],
            line=dict(color=OPTIMIZER_COLORS[name], width=3), marker=dict(size=4),
            hovertemplate=f"{LABELS[name]}<br>x=%{{x:.4f}}<br>y=%{{y:.4f}}<extra></extra>",
        ))
    figure.add_trace(go.Scatter(x=[surface.start[0]], y=[surface.start[1]], mode="markers", name="start",
                                marker=dict(symbol="circle-open", size=16, color=REFERENCE_COLOR, line=dict(width=3))))
    figure.add_trace(go.Scatter(x=[m[0] for m in surface.minima], y=[m[1] for m in surface.minima], mode="markers",
                                name="minimum", marker=dict(symbol="star", size=18, color="#F0E442",
                                                            line=dict(color=REFERENCE_COLOR, width=1))))
    figure.update_layout(
        title=f"{surface.title}: {'all steps' if upto is None else f'first {upto} steps'}",
        xaxis_title="x", yaxis_title="y", height=560,
        margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.15),
    )
    figure.update_xaxes(range=list(surface.x_range))
    figure.update_yaxes(range=list(surface.y_range))
    return figure


def loss_by_step_figure(trajectories: dict, surface_key: str) -> go.Figure:
    """How far above the minimum each optimizer's loss is at every step, on a log axis.

    Args:
        trajectories: from `run_trajectories`.
        surface_key: their surface (its minimum value is subtracted).
    Returns:
        a Figure with one line per optimizer.
    """
    floor = SURFACES[surface_key].minimum_value
    figure = go.Figure()
    for name, trajectory in trajectories.items():
        # Subtracting the minimum makes every curve positive (the saddle's loss goes below zero),
        # and the clip keeps an exact hit of the minimum on the log axis.
        gap = np.maximum(trajectory.losses - floor, 1e-12)
        figure.add_trace(go.Scatter(x=np.arange(len(gap)), y=gap, mode="lines", name=LABELS[name],
                                    line=dict(color=OPTIMIZER_COLORS[name], width=3)))
    figure.update_layout(title="Loss above the minimum at each step", xaxis_title="step",
                         yaxis_title="loss - minimum (log scale)",
                         margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.2))
    figure.update_yaxes(type="log", exponentformat="power")
    return readable_log_ticks(figure)


def race_figure(results: dict, metric: str = "val_accuracy") -> go.Figure:
    """One line per optimizer: a per-epoch metric of the race.

    Args:
        results: from `race`.
        metric: a history key such as "val_accuracy" or "loss".
    Returns:
        a Figure with one trace per optimizer.
    """
    figure = go.Figure()
    for name, result in results.items():
        figure.add_trace(go.Scatter(x=result.history["epoch"], y=result.history[metric], mode="lines+markers",
                                    name=f"{LABELS[name]} (lr {result.config.learning_rate:g})",
                                    line=dict(color=OPTIMIZER_COLORS[name], width=3), marker=dict(size=8)))
    title = metric.replace("val_", "validation ").replace("_", " ")
    figure.update_layout(title=f"Race: {title} per epoch", xaxis_title="epoch", yaxis_title=title,
                         margin=dict(l=60, r=20, t=50, b=50),
                         legend=dict(orientation="h", y=-0.2))
    figure.update_xaxes(dtick=1)
    return figure


def race_steps_figure(results: dict) -> go.Figure:
    """Training loss per logged step of each racer: who pulls ahead first.

    Args:
        results: from `race`.
    Returns:
        a Figure with one trace per optimizer.
    """
    figure = go.Figure()
    for name, result in results.items():
        figure.add_trace(go.Scatter(x=[e["step"] for e in result.step_log], y=[e["loss"] for e in result.step_log],
                                    mode="lines", name=LABELS[name],
                                    line=dict(color=OPTIMIZER_COLORS[name], width=2)))
    figure.update_layout(title="Race: training loss per step", xaxis_title="step", yaxis_title="training loss",
                         margin=dict(l=60, r=20, t=50, b=50),
                         legend=dict(orientation="h", y=-0.2))
    return figure


def race_table(results: dict):
    """One row per optimizer: final validation accuracy, loss and seconds.

    Args:
        results: from `race`.
    Returns:
        a pandas DataFrame sorted by final validation accuracy, best first.
    """
    import pandas as pd

    frame = pd.DataFrame([{
        "optimizer": LABELS[name], "learning rate": r.config.learning_rate,
        "validation accuracy": r.history["val_accuracy"][-1] if r.history["val_accuracy"] else float("nan"),
        "training loss": r.history["loss"][-1] if r.history["loss"] else float("nan"),
        "seconds": r.seconds, "stop": r.stop_reason,
    } for name, r in results.items()])
    return frame.sort_values("validation accuracy", ascending=False, ignore_index=True)


def effective_rate_figure(logs: list) -> go.Figure:
    """Each layer's median effective learning rate against step, relative to its value at step 20.

    Args:
        logs: EffectiveRateLog objects.
    Returns:
        a Figure with one trace per optimizer and layer; 1.0 is the rate at the reference step.
    """
    figure = go.Figure()
    dashes = ("dot", "dash", "solid", "dashdot")
    for log in logs:
        start = log.reference_index()
        reference = log.rates[start]
        for index, layer in enumerate(log.layer_names):
            figure.add_trace(go.Scatter(
                x=log.steps[start:], y=log.relative(layer)[start:], mode="lines+markers", marker=dict(size=4),
                name=f"{LABELS[log.optimizer]} {layer} (η/√s = {reference[index]:.3g} at step {REFERENCE_STEP})",
                line=dict(color=OPTIMIZER_COLORS[log.optimizer], width=3, dash=dashes[index % len(dashes)]),
            ))
    figure.add_hline(y=1.0, line=dict(color="grey", width=1))
    figure.update_layout(title=f"Effective learning rate η/√(s+ε) per layer, relative to step {REFERENCE_STEP}",
                         xaxis_title="step", yaxis_title=f"median effective rate / rate at step {REFERENCE_STEP}",
                         margin=dict(l=60, r=20, t=50, b=50),
                         legend=dict(orientation="h", y=-0.2), height=520)
    return figure


def effective_rate_2d_figure(trajectories: dict) -> go.Figure:
    """AdaGrad's and RMSprop's effective learning rate per coordinate on the 2-D surface.

    Args:
        trajectories: from `run_trajectories`; only AdaGrad and RMSprop are drawn.
    Returns:
        a Figure on a log axis, two traces (x and y coordinate) per optimizer.
    """
    figure = go.Figure()
    for name in ("adagrad", "rmsprop"):
        if name not in trajectories:
            continue
        trajectory = trajectories[name]
        rates = trajectory.config.learning_rate / np.sqrt(trajectory.state["s"] + trajectory.config.epsilon)
        steps = np.arange(1, trajectory.steps + 1)
        for index, (coordinate, dash) in enumerate((("x", "solid"), ("y", "dot"))):
            figure.add_trace(go.Scatter(x=steps, y=rates[:, index], mode="lines",
                                        name=f"{LABELS[name]}, {coordinate}",
                                        line=dict(color=OPTIMIZER_COLORS[name], width=3, dash=dash)))
    figure.update_layout(title="Effective learning rate \u03b7/\u221a(s+\u03b5) on the surface, per coordinate",
                         xaxis_title="step", yaxis_title="effective learning rate (log scale)",
                         margin=dict(l=60, r=20, t=50, b=50),
                         legend=dict(orientation="h", y=-0.2))
    figure.update_yaxes(type="log")
    return readable_log_ticks(figure)

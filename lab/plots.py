"""Plotly figures for training runs. Each function returns a `go.Figure`.

These take plain data (history dicts, step logs, arrays), so they draw a
finished TrainResult and a live TrainProgress alike, and tests can inspect
their traces and axis titles without a browser.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go

from lab.runs import finite_or_none

# Colour-blind-safe palette (Okabe-Ito), readable on a projector. Okabe-Ito's eighth colour is black,
# which vanishes on the dark theme (the loss page's outliers were black crosses on a near-black
# background), so the eighth here is a mid purple that reads on both themes.
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#9467BD")
# Reference lines and markers (a target, an original direction, a zero line): black vanishes on the
# dark theme and white on the light one, so a mid grey that reads on both (contrast about 3:1 on
# white and 6:1 on Streamlit's dark background).
REFERENCE_COLOR = "#8C8C8C"
# One colour per setting value, the same in every run and on every page (issue 10): a learning rate of
# 0.1 is green in the Training Lab's overlays and on the learning-rate page alike. Colour-blind-safe
# colours that read on both themes (no black, no yellow); the lecture's usual rates get the most
# distinct ones (1e-4 blue, 0.01 orange, 0.1 green, 1 vermillion).
LEARNING_RATE_COLORS = {
    1e-5: "#44AA99", 3e-5: "#999933", 1e-4: "#0072B2", 3e-4: "#6699CC", 1e-3: "#56B4E9", 3e-3: "#AA4499",
    0.01: "#E69F00", 0.03: "#CC79A7", 0.1: "#009E73", 0.3: "#882255", 0.5: "#A6761D", 1.0: "#D55E00",
    2.0: "#117733", 3.0: "#E7298A", 5.0: "#66A61E", 10.0: "#B15928",
}
OPTIMIZER_COLORS = {"sgd": COLORS[0], "momentum": COLORS[1], "nesterov": COLORS[2], "adagrad": COLORS[3],
                    "rmsprop": COLORS[4], "adam": COLORS[5]}
COLORED_SETTINGS = ("learning_rate", "optimizer")  # the settings whose values have their own colour
MAX_LOG_LABELS = 8  # labelled powers of ten on one log axis; more overlap on a 300 px projector chart
# No template: Streamlit's own chart theme then follows its light or dark theme.
# The legend sits at the bottom of the whole figure (yref "container") and Plotly grows the bottom
# margin to fit it, so it stays below the x axis title instead of a fixed share of the plot's height
# under the axis, where a 300 px projector chart with large type put it on top of the title.
LEGEND = dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left")
_LAYOUT = dict(margin=dict(l=60, r=20, t=50, b=20), legend=LEGEND)
# The topic pages' own figures: larger type than Plotly's default, for the back row of a lecture hall.
TOPIC_LAYOUT = dict(font=dict(size=14), margin=dict(l=60, r=20, t=60, b=50), legend=dict(orientation="h", y=-0.25))


def _figure(title: str, x_title: str, y_title: str, log_y: bool = False) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, **_LAYOUT)
    if log_y:
        figure.update_yaxes(type="log")
    return figure


def reference_line(figure: go.Figure, y: float, label: str) -> go.Figure:
    """A dotted horizontal line across the plot at `y` (a target, chance), named in the legend.

    A label written on the plot beside the line ("target 78%", "chance") sat on the curves that
    cross it; the legend entry is never covered and grows with the legend's type on a projector.

    Args:
        figure: the Figure to draw on.
        y: the line's height, in the y axis's units.
        label: the legend entry, such as "target 78%".
    Returns:
        the same Figure, changed in place.
    """
    line = dict(color=REFERENCE_COLOR, dash="dot", width=2)
    figure.add_hline(y=y, line=line)
    # A trace without points draws nothing but its legend entry, in the line's own style.
    figure.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=label, line=line, hoverinfo="skip"))
    return figure


def add_running_and_validation(figure: go.Figure, run, metric: str, label: str, color: str) -> go.Figure:
    """A run's running training `metric` per logged step (thin) and its validation `metric` per epoch (thick).

    Args:
        figure: the Figure to draw on, with epochs on its x axis.
        run: a result with a `step_log` (dicts with "epoch" and `metric`) and a `history` (with "epoch" and
            "val_" + `metric`), such as a TrainResult.
        metric: "loss" or "accuracy".
        label: the run's name in the legend.
        color: both lines' colour.
    Returns:
        the same Figure, changed in place.
    """
    # Opaque: at half opacity the blue and orange running lines turned a dim navy and brown on the dark theme.
    figure.add_trace(go.Scatter(
        x=[entry["epoch"] for entry in run.step_log], y=[entry[metric] for entry in run.step_log],
        mode="lines", name=f"{label}: training (running)", line=dict(color=color, width=2),
    ))
    figure.add_trace(go.Scatter(
        x=run.history["epoch"], y=run.history[f"val_{metric}"], mode="lines+markers",
        name=f"{label}: validation", line=dict(color=color, width=3),
    ))
    return figure


def readable_log_ticks(figure: go.Figure) -> go.Figure:
    """Label every log axis of `figure` with powers of ten or 1-2-5 values, never Plotly's bare minor digits.

    Args:
        figure: a Figure whose traces are already added.
    Returns:
        the same Figure, changed in place.
    """
    for name, axis in figure.layout.to_plotly_json().items():
        if not name[1:].startswith("axis") or axis.get("type") != "log":
            continue
        letter, reference = name[0], name[0] + name[5:]
        values = []
        for trace in figure.data:
            if (getattr(trace, f"{letter}axis", None) or letter) != reference or getattr(trace, letter, None) is None:
                continue
            values.extend(_positive_numbers(getattr(trace, letter)))
        if not values:
            continue
        low, high = min(values), max(values)
        if high / low >= 10**2.5:
            # Many powers of ten: labelled ticks at powers of ten, written 10^k. A diverged loss can
            # span 30 of them, so every k-th power is labelled to keep at most MAX_LOG_LABELS.
            every = max(1, math.ceil(math.log10(high / low) / MAX_LOG_LABELS))
            figure.layout[name].update(tickmode="linear", dtick=every, exponentformat="power")
            continue
        ticks = _nice_ticks(low, high, (1, 2, 5))
        if len(ticks) < 2:
            ticks = _nice_ticks(low, high, range(1, 10))
        if len(ticks) >= 2:
            figure.layout[name].update(tickmode="array", tickvals=ticks, ticktext=[f"{tick:g}" for tick in ticks])
    return figure


def _positive_numbers(data) -> list[float]:
    numbers = []
    for value in np.ravel(np.asarray(data, dtype=object)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(number) and number > 0:
            numbers.append(number)
    return numbers


def _nice_ticks(low: float, high: float, mantissas) -> list[float]:
    """Values m x 10^k (m from `mantissas`) between low and high, with some room either side."""
    first, last = int(np.floor(np.log10(low))) - 1, int(np.ceil(np.log10(high))) + 1
    ticks = [float(f"{m}e{k}") for k in range(first, last + 1) for m in mantissas]
    return [tick for tick in ticks if low / 1.5 <= tick <= high * 1.5]


def per_step_losses(first_steps: Optional[dict], step_log: Sequence[dict]) -> tuple[list[int], list]:
    """Each step's own batch loss, from step 0 on, numbered as the trainer's texts number steps.

    The first steps' values come first; the step log continues them with each entry's last batch
    (an entry's "step" counts the steps taken, so its last batch is step entry["step"] - 1).

    Args:
        first_steps: per-step values of the first steps by metric; index i is step i.
        step_log: step-log entries with "step" and "batch_loss".
    Returns:
        (steps, losses); a non-finite loss is None, a gap in the line.
    """
    losses = [finite_or_none(value) for value in (first_steps or {}).get("loss", [])]
    steps = list(range(len(losses)))
    for entry in step_log:
        if entry["step"] - 1 >= len(losses) and "batch_loss" in entry:
            steps.append(entry["step"] - 1)
            losses.append(finite_or_none(entry["batch_loss"]))
    return steps, losses


def curves_figure(
    history: dict, step_log: Sequence[dict], metric: str = "loss", title: Optional[str] = None,
    first_steps: Optional[dict] = None, steps_per_epoch: Optional[int] = None, diverged_at: Optional[int] = None,
) -> go.Figure:
    """Training and validation curves of one metric, from step 0 on.

    The first steps' own batch values start the curve at the initial weights, the
    step log's running means continue it during the first epoch, and validation
    points appear at each epoch's end. A run that diverged before its first epoch
    ended is drawn against step, its loss on a log axis, with the divergence marked.

    Args:
        history: per-epoch dict with keys such as "loss" and "val_loss".
        step_log: step-log entries with "step", "epoch" (fractional) and the metric.
        metric: "loss" or "accuracy".
        title: optional figure title.
        first_steps: per-step values of the first steps by metric; index i is step i.
        steps_per_epoch: converts steps to epochs; without it the per-step values are left out.
        diverged_at: the step at which the run diverged, marked on the figure.
    Returns:
        a Figure with up to four traces: per step, running, per epoch, validation.
    """
    epochs = list(history.get("epoch") or [])
    per_step = [finite_or_none(value) for value in (first_steps or {}).get(metric, [])]
    # Steps read better than tiny fractions of an epoch when a run diverged before its first epoch ended.
    against_step = diverged_at is not None and not epochs
    scale = 1 if against_step else steps_per_epoch
    figure = _figure(title or metric.capitalize(), "step" if against_step else "epoch", metric)
    if per_step and scale:
        figure.add_trace(go.Scatter(
            x=[step / scale for step in range(len(per_step))], y=per_step, mode="lines",
            name=f"per-step {metric}", line=dict(color=COLORS[5], width=2),
            customdata=list(range(len(per_step))), hovertemplate="step %{customdata}: %{y:.4g}<extra></extra>",
        ))
    if step_log:
        # Opaque and as thick as the epoch line: a thin translucent dark blue vanished on the dark theme.
        # Against step, an entry is drawn at its last batch's step, where the per-step line has that batch.
        figure.add_trace(go.Scatter(
            x=[entry["step"] - 1 if against_step else entry["epoch"] for entry in step_log],
            y=[entry[metric] for entry in step_log],
            mode="lines", name=f"running {metric}", line=dict(color=COLORS[0], width=3),
        ))
    if epochs:
        # Keras's epoch value is the mean over the whole epoch's batches, so it sits above the
        # running line's end while the loss falls; the name says so, and so do the pages' texts.
        figure.add_trace(go.Scatter(
            x=epochs, y=history[metric], mode="lines+markers",
            name=f"epoch-mean {metric}", line=dict(color=COLORS[0], width=3, dash="dot"),
        ))
        figure.add_trace(go.Scatter(
            x=epochs, y=history[f"val_{metric}"], mode="lines+markers",
            name=f"validation {metric}", line=dict(color=COLORS[1], width=3),
        ))
    if against_step and diverged_at is not None and diverged_at <= 10:
        figure.update_xaxes(tick0=0, dtick=1)  # whole steps: Plotly labels 0.5 and 1.5 on a short run
    if against_step and metric == "accuracy":
        # A diverged run's accuracy is often a constant 0.03: Plotly would draw it on an axis from -0.5 to 1.
        figure.update_yaxes(range=[0, 1])
    if diverged_at is not None and scale:
        _mark_divergence(figure, metric, per_step, diverged_at, scale)
    return figure


def waiting_curves_figure(metric: str = "loss", epochs: int = 5) -> go.Figure:
    """The empty axes of the live curves, shown before the first run, with where the curve will start.

    Drawing it when the page opens also makes the browser load Plotly then, so the
    first live point of the first run appears at once instead of after that download.

    Args:
        metric: "loss" or "accuracy".
        epochs: the planned run's epochs, the x-axis range.
    Returns:
        a Figure with no traces, the live chart's axis titles and one annotation.
    """
    figure = _figure(metric.capitalize(), "epoch", metric)
    figure.update_xaxes(range=[0, max(1, epochs)])
    figure.update_yaxes(range=[0, 2.5] if metric == "loss" else [0, 1])
    figure.add_annotation(text=f"Press Train: the {metric} of every mini-batch appears here, from step 0",
                          x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False)
    return figure


def _mark_divergence(figure: go.Figure, metric: str, per_step: list, diverged_at: int, scale: float) -> None:
    """A dashed line and the words "diverged at step N" where the run diverged; losses go on a log axis."""
    finite = [value for value in per_step if value is not None and value > 0]
    if metric == "loss" and finite and max(finite) > 100 * min(finite):
        # A diverging loss grows by many powers of ten; a linear axis would show a flat line and a spike.
        figure.update_yaxes(type="log")
        readable_log_ticks(figure)
    x = diverged_at / scale
    figure.add_vline(x=x, line=dict(color=COLORS[3], width=2, dash="dash"))
    # The words sit just above the plotting area, where no line can be: inside its top corner the climbing
    # loss ended right on them. Ending at the marker, where a run's curves end too, they stay inside the
    # figure and away from the title at the top left.
    figure.add_annotation(
        x=x, y=1, yref="paper", text=f"diverged at step {diverged_at:,}", showarrow=False,
        xanchor="right", yanchor="bottom", font=dict(color=COLORS[3], size=14), name="divergence",
    )


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
    return readable_log_ticks(figure)


def learning_rate_figure(step_log: Sequence[dict]) -> go.Figure:
    """The learning rate in force at each logged step.

    Args:
        step_log: step-log entries with "step" and "learning_rate".
    Returns:
        a Figure with one trace.
    """
    figure = _figure("Learning rate", "step", "learning rate")
    rates = [entry["learning_rate"] for entry in step_log]
    figure.add_trace(go.Scatter(
        x=[entry["step"] for entry in step_log], y=rates,
        mode="lines", name="learning rate", line=dict(color=COLORS[2], width=3),
    ))
    finite = [rate for rate in rates if rate is not None and np.isfinite(rate) and rate > 0]
    if finite and max(finite) - min(finite) <= 1e-6 * max(finite):
        # Plotly draws a constant series on an axis from -0.5 to 1 around it, so 0.01 looks like 0.
        figure.update_yaxes(range=[0.5 * finite[0], 1.5 * finite[0]], tickformat="~g", nticks=5)
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


# ----------------------------------------------------------------------
# Training Lab: comparing runs and looking at predictions
# ----------------------------------------------------------------------
# Compact layout for the predictions gallery, which draws a dozen small figures;
# no colours of its own, so Streamlit's light or dark chart theme applies.
_PLAIN_LAYOUT = dict(font=dict(size=13), showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
_GRID = dict(showgrid=True, zeroline=False)


def setting_color(setting: str, value) -> str:
    """The one colour of a setting's value, the same in every run and on every page.

    Args:
        setting: "learning_rate" or "optimizer".
        value: a learning rate (a rate between the listed ones takes its nearest on a log scale)
            or an optimizer name.
    Returns:
        a hex colour.
    """
    if setting == "optimizer":
        return OPTIMIZER_COLORS.get(value, REFERENCE_COLOR)
    if setting == "learning_rate":
        rate = float(value)
        if rate <= 0 or not math.isfinite(rate):
            return REFERENCE_COLOR
        nearest = min(LEARNING_RATE_COLORS, key=lambda known: abs(math.log10(known) - math.log10(rate)))
        return LEARNING_RATE_COLORS[nearest]
    raise ValueError(f"setting must be one of {COLORED_SETTINGS}, got {setting!r}")


def run_colors(configs: Sequence, run_ids: Sequence[int]) -> tuple[list[str], Optional[str]]:
    """Colours for overlaid runs: by the learning rate or optimizer that tells them apart, else by run number.

    Args:
        configs: the runs' TrainConfigs.
        run_ids: their numbers, for runs that no coloured setting tells apart.
    Returns:
        (one colour per run, the setting they are coloured by or None).
    """
    for setting in COLORED_SETTINGS:
        values = [getattr(config, setting) for config in configs]
        if len(configs) > 1 and len(set(values)) == len(values):
            return [setting_color(setting, value) for value in values], setting
    return [COLORS[run_id % 6] for run_id in run_ids], None  # the first six: no yellow, no black


def compare_figure(series: Sequence[tuple[str, Sequence, Sequence]], metric: str, x_axis: str = "epoch",
                   log_y: bool = False, colors: Optional[Sequence[str]] = None) -> go.Figure:
    """One metric of several runs overlaid, against epoch or step.

    Args:
        series: (run label, x values, y values) per run; None values leave a gap.
        metric: the metric's name, for the title and the y axis.
        x_axis: "epoch" or "step".
        log_y: draw the y axis on a log scale (useful for losses and gradient norms).
        colors: one colour per run (see `run_colors`); the palette's order when None.
    Returns:
        a Figure with one line per run.
    """
    figure = _figure(f"{metric} by {x_axis}", x_axis, metric, log_y=log_y)
    for index, (label, xs, ys) in enumerate(series):
        color = colors[index] if colors is not None else COLORS[index % len(COLORS)]
        figure.add_trace(go.Scatter(
            x=list(xs), y=list(ys), mode="lines+markers" if x_axis == "epoch" else "lines", name=label,
            line=dict(color=color, width=3), connectgaps=False,
        ))
    return readable_log_ticks(figure)


def per_class_accuracy_figure(accuracies: Sequence[float], class_names: Sequence[str]) -> go.Figure:
    """Test accuracy of each class as horizontal bars, worst classes easy to spot.

    Args:
        accuracies: one accuracy in [0, 1] per class.
        class_names: one label per class.
    Returns:
        a Figure with one Bar trace (x: accuracy, y: class name).
    """
    figure = _figure("Test accuracy per class", "accuracy", "true class")
    values = [float(value) for value in accuracies]
    worst = int(np.argmin(values)) if values else -1
    figure.add_trace(go.Bar(
        x=values, y=list(class_names), orientation="h", name="accuracy",
        marker_color=[COLORS[3] if index == worst else COLORS[0] for index in range(len(values))],
        text=[f"{value:.0%}" for value in values], textposition="auto",
        hovertemplate="%{y}: %{x:.1%}<extra></extra>",
    ))
    figure.update_xaxes(range=[0, 1], tickformat=".0%")
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(showlegend=False)
    return figure


def prediction_figure(image: np.ndarray, probabilities: Sequence[float], class_names: Sequence[str],
                      true_label: int) -> go.Figure:
    """One test image beside the model's probability for every class.

    The true class's bar is green; when the prediction is wrong, the predicted
    class's bar is red. The title says true and predicted label.

    Args:
        image: (28, 28) uint8 pixels.
        probabilities: one probability per class.
        class_names: one label per class.
        true_label: index of the true class.
    Returns:
        a Figure with a Heatmap trace (the image) and a Bar trace (the probabilities).
    """
    probabilities = [float(p) for p in probabilities]
    predicted = int(np.argmax(probabilities))
    colors = ["#A7B1BC"] * len(probabilities)
    colors[true_label] = COLORS[2]
    if predicted != true_label:
        colors[predicted] = COLORS[3]
        title = f"✗ {class_names[true_label]} → {class_names[predicted]} ({probabilities[predicted]:.0%})"
    else:
        title = f"✓ {class_names[true_label]} ({probabilities[predicted]:.0%})"
    figure = go.Figure(layout=dict(
        _PLAIN_LAYOUT, height=210, title=dict(text=title, font=dict(size=14), x=0.02, y=0.96),
        xaxis=dict(domain=[0, 0.36], visible=False, constrain="domain"),
        yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"),
        xaxis2=dict(domain=[0.62, 1], range=[0, 1], tickformat=".0%", nticks=3, **_GRID),
        yaxis2=dict(anchor="x2", autorange="reversed", tickfont=dict(size=11), automargin=True),
    ))
    figure.add_trace(go.Heatmap(
        z=np.asarray(image), colorscale=[[0, "white"], [1, "black"]], zmin=0, zmax=255, showscale=False,
        hoverinfo="skip", name="image",
    ))
    figure.add_trace(go.Bar(
        x=probabilities, y=list(class_names), orientation="h", xaxis="x2", yaxis="y2", name="probability",
        marker_color=colors, hovertemplate="%{y}: %{x:.1%}<extra></extra>",
    ))
    return figure


def style_for_projector(figure: go.Figure) -> go.Figure:
    """A copy of `figure` with large type and thick lines for a projector.

    Args:
        figure: any Plotly figure.
    Returns:
        a new Figure; the original is left as it was.
    """
    styled = go.Figure(figure)
    styled.update_layout(font=dict(size=20), title_font=dict(size=26), legend_font=dict(size=18))
    legend = styled.layout.legend
    if legend.orientation == "h" and legend.y is not None and legend.y < 0 and legend.yref != "container":
        # A legend a share of the plot's height below it lands on the x axis title once the type is large
        # and the chart short: the bottom of the whole figure is always below the title.
        styled.update_layout(legend=LEGEND)
    for trace in styled.data:
        if trace.type == "scatter":
            width, size = trace.line.width or 2, trace.marker.size
            # A marker meant to stand out (the best epoch's star) stays larger than the others, never shrinks to them.
            marker_size = max(12, 1.5 * size) if isinstance(size, (int, float)) else 12
            trace.update(line_width=max(4, width * 2), marker_size=marker_size)
    return styled

"""lab.plots: traces and axis titles, as scikit-learn's Display tests check them."""

import numpy as np

from lab import plots

HISTORY = {"epoch": [1, 2], "loss": [0.7, 0.5], "val_loss": [0.55, 0.47],
           "accuracy": [0.76, 0.83], "val_accuracy": [0.81, 0.84]}
STEPS = [{"step": s, "epoch": s / 100, "loss": 1 / s, "accuracy": 0.5, "learning_rate": 0.01 / (1 + 0.01 * s),
          "layer_norms": [1.0, 0.1 * s], "clipped_layer_norms": [1.0, 1.0]} for s in (25, 50, 75)]


def test_curves_figure_has_running_training_and_validation_traces():
    figure = plots.curves_figure(HISTORY, STEPS, "loss")
    assert [trace.name for trace in figure.data] == [
        "running loss", "epoch-mean loss", "validation loss"]
    assert figure.layout.xaxis.title.text == "epoch" and figure.layout.yaxis.title.text == "loss"
    assert list(figure.data[2].y) == [0.55, 0.47]


def test_curves_figure_grows_before_the_first_epoch_ends():
    figure = plots.curves_figure({"epoch": []}, STEPS, "accuracy")
    assert len(figure.data) == 1 and len(figure.data[0].x) == 3


def test_gradient_norms_are_on_a_log_axis_with_one_trace_per_layer():
    figure = plots.gradient_norms_figure(STEPS, ["hidden_1", "output"], clipped=True)
    assert figure.layout.yaxis.type == "log"
    assert [trace.name for trace in figure.data] == [
        "hidden_1 before clipping", "hidden_1 after clipping", "output before clipping", "output after clipping"]
    assert figure.data[3].line.dash == "dash"


def test_learning_rate_figure_follows_the_log():
    figure = plots.learning_rate_figure(STEPS)
    assert figure.layout.yaxis.title.text == "learning rate"
    assert list(figure.data[0].x) == [25, 50, 75]


def test_confusion_matrix_has_class_names():
    matrix = np.eye(3, dtype=int) * 5
    figure = plots.confusion_matrix_figure(matrix, ["a", "b", "c"])
    heatmap = figure.data[0]
    assert heatmap.type == "heatmap" and list(heatmap.x) == ["a", "b", "c"]
    assert figure.layout.xaxis.title.text == "predicted class"


def test_curves_start_at_step_0_from_the_first_steps():
    first = {"loss": [2.3, 2.2, 2.0, 1.9], "accuracy": [0.1, 0.2, 0.3, 0.3]}
    figure = plots.curves_figure(HISTORY, STEPS, "loss", first_steps=first, steps_per_epoch=100)
    per_step = figure.data[0]
    assert per_step.name == "per-step loss"
    assert list(per_step.x) == [0, 0.01, 0.02, 0.03] and list(per_step.y) == first["loss"]
    assert figure.layout.xaxis.title.text == "epoch" and not figure.layout.annotations


def test_a_diverged_run_is_drawn_against_step_on_a_log_axis_and_marked():
    first = {"loss": [2.3, 6.2, 18.0, 72.5, 4718.8, float("nan")]}
    figure = plots.curves_figure({"epoch": []}, [], "loss", first_steps=first, steps_per_epoch=32, diverged_at=6)
    per_step = figure.data[0]
    assert list(per_step.x) == [0, 1, 2, 3, 4, 5] and per_step.y[0] == 2.3 and per_step.y[4] > 1000
    assert per_step.y[5] is None  # NaN leaves a gap instead of breaking the axis
    assert figure.layout.xaxis.title.text == "step" and figure.layout.yaxis.type == "log"
    assert [a.text for a in figure.layout.annotations] == ["diverged at step 6"]
    assert figure.layout.shapes[0].x0 == 6
    assert figure.layout.xaxis.dtick == 1  # whole steps, never "step 0.5"


def test_a_constant_learning_rate_is_drawn_on_an_axis_around_it():
    steps = [{"step": s, "learning_rate": 0.01} for s in (25, 50, 75)]
    figure = plots.learning_rate_figure(steps)
    low, high = figure.layout.yaxis.range
    assert low == 0.005 and high == 0.015  # not Plotly's -0.5..1, which shows 0.01 as "0"
    decaying = plots.learning_rate_figure(STEPS)
    assert decaying.layout.yaxis.range is None  # a changing rate keeps Plotly's fitted range


def test_log_axes_label_powers_of_ten_or_1_2_5_values_never_bare_digits():
    # Norms from 1 to 7.5: less than a decade, so 1-2-5 values written out in full.
    narrow = plots.gradient_norms_figure(STEPS, ["hidden_1", "output"]).layout.yaxis
    assert narrow.tickmode == "array" and list(narrow.ticktext) == ["1", "2", "5", "10"]
    assert list(narrow.tickvals) == [1.0, 2.0, 5.0, 10.0]
    # Losses over seven powers of ten: one tick per power, written as 10^k.
    series = [("#1", [1, 2, 3], [2.3, 4e3, 1e7]), ("#2", [1, 2, 3], [0.9, 0.5, None])]
    wide = plots.compare_figure(series, "loss", "step", log_y=True).layout.yaxis
    assert wide.type == "log" and wide.dtick == 1 and wide.exponentformat == "power"
    # A diverged loss over 30 powers of ten: every 4th power labelled, so the labels do not pile up.
    diverged = plots.compare_figure([("#1", [0, 1, 2], [2.4, 1e10, 5e28])], "loss", "step", log_y=True).layout.yaxis
    assert diverged.dtick == 4 and 29 / diverged.dtick <= plots.MAX_LOG_LABELS
    # Learning rates from 0.001 to 0.03: a decade and a half, labelled 0.001, 0.002, 0.005, 0.01, 0.02.
    rates = plots.compare_figure([("#1", [1, 2], [0.001, 0.03])], "learning_rate", "step", log_y=True).layout.yaxis
    assert list(rates.ticktext) == ["0.001", "0.002", "0.005", "0.01", "0.02"]


def test_every_topic_log_axis_gets_readable_ticks():
    # Each topic module that sets a log axis passes its figure through readable_log_ticks.
    import importlib
    import inspect
    import pkgutil
    import re

    import lab.topics

    for info in pkgutil.iter_modules(lab.topics.__path__):
        source = inspect.getsource(importlib.import_module(f"lab.topics.{info.name}"))
        logs = len(re.findall(r'type="log"|log_y=True', source))
        assert source.count("return readable_log_ticks(figure)") >= min(logs, 1), info.name


def test_reference_lines_read_on_light_and_dark_themes():
    """The clipping page's original direction, the slide's point, is grey and thick, never black."""
    import numpy as np

    from lab.plots import REFERENCE_COLOR
    from lab.topics.clipping import ClipComparison, clipping_arrows_figure

    comparison = ClipComparison(gradient=np.array([0.1, 10.0]), threshold=1.0,
                                clipped={"value": np.array([0.1, 1.0]), "norm": np.array([0.0099995, 0.99995])},
                                angles={"value": 39.7, "norm": 0.0})
    original = clipping_arrows_figure(comparison).data[0]
    assert original.name.startswith("direction of the original")
    assert original.line.color == REFERENCE_COLOR and original.line.width >= 4 and original.line.dash == "dash"
    from lab.topics.clipping import clipping_bars_figure

    bars = clipping_bars_figure(comparison)  # its "original" bars were black, invisible on the dark theme
    assert bars.data[0].name == "original" and bars.data[0].marker.color == REFERENCE_COLOR


def test_waiting_curves_have_the_live_charts_axes_and_say_where_the_curve_starts():
    figure = plots.waiting_curves_figure("loss", epochs=8)
    assert len(figure.data) == 0
    assert figure.layout.xaxis.title.text == "epoch" and figure.layout.yaxis.title.text == "loss"
    assert tuple(figure.layout.xaxis.range) == (0, 8)
    assert "from step 0" in figure.layout.annotations[0].text
    assert tuple(plots.waiting_curves_figure("accuracy").layout.yaxis.range) == (0, 1)


def test_the_running_line_reads_on_the_dark_theme_and_the_legend_clears_the_axis_title():
    # Issue 10: on a projector the running loss was faint and the legend sat on the "epoch" title.
    figure = plots.curves_figure(HISTORY, STEPS, "loss")
    running = figure.data[0]
    assert running.line.width >= 3 and running.opacity in (None, 1)
    assert running.line.color == plots.COLORS[0]
    # The legend is anchored to the bottom of the whole figure, below the axis title, not a share of the plot.
    legend = figure.layout.legend
    assert (legend.yref, legend.y, legend.yanchor, legend.orientation) == ("container", 0, "bottom", "h")
    projector = plots.style_for_projector(figure)
    assert projector.data[0].line.width >= 4 and projector.layout.legend.yref == "container"
    # Topic figures that still place their legend under the plot get the same legend on a projector.
    old_style = plots.go.Figure(layout=dict(legend=dict(orientation="h", y=-0.2), xaxis_title="epoch"))
    assert plots.style_for_projector(old_style).layout.legend.yref == "container"


def test_per_step_losses_number_steps_from_0_and_continue_with_the_step_log():
    first = {"loss": [2.3, 2.2, float("nan")]}
    log = [{"step": 2, "batch_loss": 2.2}, {"step": 6, "batch_loss": 1.5}, {"step": 10, "batch_loss": 1.2}]
    steps, losses = plots.per_step_losses(first, log)
    assert steps == [0, 1, 2, 5, 9] and losses == [2.3, 2.2, None, 1.5, 1.2]


def _fake_rate_run(rate: float, losses=(2.3, 1.0)):
    """What learning_rate.loss_per_step_figure reads of a TrainResult (its drawing is what is tested here)."""
    from types import SimpleNamespace

    from lab.config import TrainConfig

    return SimpleNamespace(step_log=[{"step": 10 * i, "loss": loss, "batch_loss": loss} for i, loss in enumerate(losses)],
                           first_steps={"loss": []}, diverged_at=None, stop_reason="completed",
                           config=TrainConfig(learning_rate=rate))


def test_a_learning_rate_and_an_optimizer_keep_one_colour_across_runs_and_pages():
    """Issue 10: lr 0.1 was blue in one overlay and orange in the next; now one colour per value everywhere."""
    from lab.config import TrainConfig
    from lab.topics import learning_rate, optimizers

    configs = {rate: TrainConfig(learning_rate=rate) for rate in (0.01, 0.1, 1.0)}
    # The Training Lab's overlays: the same rate keeps its colour whatever else is selected, in any order.
    first, by = plots.run_colors([configs[0.1], configs[0.01]], [1, 2])
    second, _ = plots.run_colors([configs[1.0], configs[0.01], configs[0.1]], [3, 2, 1])
    assert by == "learning_rate" and first[0] == second[2] and first[1] == second[1]
    assert len(set(second)) == 3
    overlay = plots.compare_figure([("#1", [1], [0.5]), ("#2", [1], [0.6])], "loss", colors=first)
    assert [trace.line.color for trace in overlay.data] == first

    # The learning-rate page: each rate's line has the same colour as in the lab, whatever the selection.
    drawn = {}
    for rates in ((1e-4, 0.1, 1.0), (0.1, 0.01)):
        figure = learning_rate.loss_per_step_figure({rate: _fake_rate_run(rate) for rate in rates})
        for trace in figure.data:
            rate = float(trace.name.split("=")[1].split()[0])
            assert drawn.setdefault(rate, trace.line.color) == trace.line.color
    assert drawn[0.1] == first[0] and drawn[0.01] == first[1]
    assert len({drawn[1e-4], drawn[0.1], drawn[1.0]}) == 3  # the page's default three are told apart

    # Optimizers: the same colour in the lab's overlays and on the Faster optimizers page.
    adam, by = plots.run_colors([TrainConfig(optimizer="sgd"), TrainConfig(optimizer="adam")], [5, 6])
    assert by == "optimizer" and adam[1] == optimizers.OPTIMIZER_COLORS["adam"] == plots.setting_color("optimizer", "adam")
    # Runs no coloured setting tells apart keep their run number's colour, not their place in the list.
    same, by = plots.run_colors([configs[0.1], configs[0.1]], [4, 7])
    assert by is None and plots.run_colors([configs[0.1]], [7])[0][0] == same[1]


def _luminance(color: str) -> float:
    red, green, blue = (int(color[index:index + 2], 16) / 255 for index in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_every_palette_colour_reads_on_both_themes():
    # A black trace vanished on the dark theme (the loss page's outliers, the eighth layer of a deep net).
    assert all(0.15 < _luminance(color) < 0.9 for color in plots.COLORS), plots.COLORS
    assert 0.15 < _luminance(plots.REFERENCE_COLOR) < 0.9


# The pages' backgrounds in Streamlit's light and dark themes: a chart's line must stand out from both.
LIGHT_BACKGROUND, DARK_BACKGROUND = "#FFFFFF", "#0E1117"


def _relative_luminance(red: float, green: float, blue: float) -> float:
    def linear(channel: float) -> float:
        channel /= 255
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def _contrast(color: str, background: str, opacity: float = 1.0) -> float:
    """WCAG contrast ratio of `color` drawn at `opacity` over `background`."""
    front, back = ([int(value[index:index + 2], 16) for index in (1, 3, 5)] for value in (color, background))
    seen = [opacity * f + (1 - opacity) * b for f, b in zip(front, back)]
    lighter, darker = sorted((_relative_luminance(*seen), _relative_luminance(*back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _assert_lines_read_on_both_themes(figure) -> None:
    lines = [trace for trace in figure.data if trace.type == "scatter" and trace.x is not None
             and any(x is not None for x in trace.x) and "lines" in (trace.mode or "lines")]
    assert lines
    for trace in lines:
        opacity = 1.0 if trace.opacity is None else trace.opacity
        # WCAG asks 3:1 of a graphic; on white the palette's orange and sky blue reach 2.2:1, still clearly seen.
        assert _contrast(trace.line.color, DARK_BACKGROUND, opacity) >= 3, (trace.name, trace.line.color, opacity)
        assert _contrast(trace.line.color, LIGHT_BACKGROUND, opacity) >= 2, (trace.name, trace.line.color, opacity)
        assert trace.line.width >= 1.5, trace.name


def test_the_running_lines_read_on_both_themes():
    """The gradients page's running training lines were half-transparent: a dim navy and brown on the dark theme."""
    from types import SimpleNamespace

    from lab.config import TrainConfig
    from lab.topics import decay, gradients, learning_rate

    assert _contrast("#0072B2", DARK_BACKGROUND, 0.5) < 3 <= _contrast("#0072B2", DARK_BACKGROUND)  # the check bites
    runs = {label: gradients.DepthRun(
        label=label, config=TrainConfig(hidden_units=(100,) * 10, activation="sigmoid", batch_norm=norm),
        initial_norms={"hidden_1": 1e-6, "output": 0.1}, trained_norms=None, history=HISTORY, step_log=STEPS,
        test_accuracy=0.1, stop_reason="completed", stop_detail="") for label, norm in (("plain", "none"), ("bn", "before"))}
    results = {rate: SimpleNamespace(config=TrainConfig(learning_rate=0.1, decay=rate), step_log=STEPS, history=HISTORY)
               for rate in (0.0, 0.01)}
    rates = np.geomspace(1e-5, 1.0, 50)
    test = learning_rate.RangeTest(learning_rates=rates, losses=2.3 - np.log10(rates) / 10, smoothed=2.3 - np.log10(rates) / 10,
                                   good_low=1e-3, good_high=0.1, best_rate=0.1, stopped_early=False, batch_size=32)
    for figure in (gradients.accuracy_figure(runs), decay.loss_comparison_figure(results),
                   learning_rate.range_test_figure(test)):
        _assert_lines_read_on_both_themes(figure)


def test_a_runs_running_and_validation_lines_share_its_colour_and_label():
    """The decay page's loss lines and the gradients page's accuracy lines come from one helper."""
    from types import SimpleNamespace

    run = SimpleNamespace(step_log=STEPS, history=HISTORY)
    figure = plots.add_running_and_validation(plots._figure("t", "epoch", "accuracy"), run, "accuracy", "sigmoid",
                                              "#E69F00")
    running, validation = figure.data
    assert (running.name, validation.name) == ("sigmoid: training (running)", "sigmoid: validation")
    assert list(running.x) == [0.25, 0.5, 0.75] and list(running.y) == [0.5, 0.5, 0.5]
    assert list(validation.x) == [1, 2] and list(validation.y) == [0.81, 0.84]
    assert running.line.color == validation.line.color == "#E69F00" and running.line.width < validation.line.width
    assert validation.mode == "lines+markers"


def test_the_best_epoch_star_is_drawn_over_the_validation_marker_and_told_apart():
    """Splits page: the best-epoch star was hidden under the validation loss's own marker (and in its colour family)."""
    from lab.topics import splits

    history = {"epoch": [1, 2, 3, 4, 5], "loss": [0.9, 0.6, 0.5, 0.4, 0.3], "val_loss": [0.8, 0.6, 0.65, 0.7, 0.75],
               "accuracy": [0.7] * 5, "val_accuracy": [0.7] * 5}
    for figure in (splits.patience_figure(history, 2), plots.style_for_projector(splits.patience_figure(history, 2))):
        star, validation = figure.data[-1], next(trace for trace in figure.data if trace.name == "validation loss")
        assert star.marker.symbol == "star" and star.name == "best epoch 2 (restored)"  # the last trace: drawn on top
        assert star.marker.size >= 2 * (validation.marker.size or 6)
        assert star.marker.color not in {trace.line.color for trace in figure.data[:-1]}
        assert _contrast(star.marker.color, DARK_BACKGROUND) >= 3 and _contrast(star.marker.color, LIGHT_BACKGROUND) >= 3


def test_reference_lines_and_the_good_region_are_named_in_the_legend_not_on_the_curves():
    """"target 78%", "chance" and "good region" sat on the curves or in small type; now each is a legend entry."""
    from types import SimpleNamespace

    from lab.config import TrainConfig
    from lab.topics import batch_norm, gradients, initialisation, learning_rate

    result = SimpleNamespace(history=HISTORY, config=TrainConfig())
    run = gradients.DepthRun(label="plain", config=TrainConfig(), initial_norms={"hidden_1": 1.0, "output": 1.0},
                             trained_norms=None, history=HISTORY, step_log=STEPS, test_accuracy=0.8,
                             stop_reason="completed", stop_detail="")
    init_run = SimpleNamespace(history=HISTORY, label="He (normal)")
    for figure, label, y in ((batch_norm.accuracy_per_epoch_figure({"none": result}, 0.78), "target 78%", 0.78),
                             (gradients.accuracy_figure({"plain": run}), "chance (10 classes)", 0.1),
                             (initialisation.accuracy_figure({"he": init_run}), "chance (10 classes)", 0.1)):
        assert not figure.layout.annotations, [a.text for a in figure.layout.annotations]
        assert figure.layout.shapes[0].y0 == y and figure.layout.shapes[0].line.color == plots.REFERENCE_COLOR
        entry = figure.data[-1]
        assert entry.name == label and entry.line.dash == figure.layout.shapes[0].line.dash == "dot"
        assert figure.layout.showlegend is not False

    rates = np.geomspace(1e-5, 1.0, 50)
    test = learning_rate.RangeTest(learning_rates=rates, losses=2.3 - np.log10(rates) / 10, smoothed=2.3 - np.log10(rates) / 10,
                                   good_low=1e-3, good_high=0.1, best_rate=0.1, stopped_early=False, batch_size=32)
    figure = learning_rate.range_test_figure(test)
    assert not [a.text for a in figure.layout.annotations if "good region" in a.text]
    assert [trace.name for trace in figure.data if trace.name.startswith("good region")] == ["good region: 0.001 to 0.1"]


def test_the_backprop_gradient_bars_start_at_zero():
    """A log axis starting near 0.15 drew a 0.174 bar as almost nothing; a bar's length must read as its norm."""
    from types import SimpleNamespace

    from lab.topics import backprop

    layers = [SimpleNamespace(name=name, kernel_gradient_norm=kernel, bias_gradient_norm=bias)
              for name, kernel, bias in (("hidden_1", 2.44, 0.174), ("hidden_2", 1.29, 0.174), ("output", 0.697, 0.184))]
    figure = backprop.gradients_figure(SimpleNamespace(layers=layers, largest_gradient_layer="hidden_1"))
    assert figure.layout.yaxis.type == "linear" and figure.layout.yaxis.rangemode == "tozero"
    assert [trace.type for trace in figure.data] == ["bar", "bar"] and "log" not in figure.layout.yaxis.title.text

"""Batch normalisation.

Teaching point: BatchNormalization (before or after the activation) reaches a
target accuracy in fewer epochs, but each epoch costs more. During training it
normalises with the current batch's mean and variance; at test time it uses the
moving averages it collected, which is why predictions do not depend on the batch.
"""

import streamlit as st

from lab.claims import markdown_list
from lab.topics import batch_norm as topic
from lab.worker import lean_train
from ui.common import (config_or_error, formulas_in_two_columns, get_dataset, show_keras_code,
                       stored_result)
from ui.service import cached_only, compute, keep_cached
from ui.present import ResultArea, chart, folded, more_settings
from ui.presets import run_requested

RESULT_KEY = "bn_results"
TIMING_KEY = "bn_step_seconds"
STATS_KEY = "bn_statistics"


@st.cache_data(max_entries=48, show_spinner=False)
def _train_placement(placement: str, config, _dataset):
    # One model per call, cached alone: each curve shows as soon as its model has trained, and a
    # link that adds "after" to "none, before" trains only the new model. Shared by every session.
    return compute(topic.compare_placements, _dataset, (placement,), config, trainer=lean_train)[placement]


@st.cache_data(max_entries=16, show_spinner="Timing a step of each model (only the first time on this server)...")
def _time_steps(configs: tuple, _dataset):
    # configs: (placement, TrainConfig) pairs, hashable for the cache.
    return compute(topic.time_per_step, _dataset, dict(configs))


def _train_and_time(placements, config, dataset, target: float):
    """Train each placement, drawing the accuracy curves as they arrive, then time a step of each."""
    progress, partial, results = st.progress(0.0), st.empty(), {}
    for index, placement in enumerate(placements):
        progress.progress(index / len(placements), text=f"Training the model with {topic.PLACEMENTS[placement]} "
                                                         "(only the first time on this server)...")
        results[placement] = _train_placement(placement, config, dataset)
        chart(topic.accuracy_per_epoch_figure(results, target), container=partial, key=f"bn_partial_{index}")
    progress.progress(1.0, text="Timing a step of each model...")
    step_seconds = _time_steps(tuple((p, r.config) for p, r in results.items()), dataset)
    progress.empty()
    partial.empty()
    return results, step_seconds


def _cached_placements(placements, config, dataset):
    """The placements' runs and timings when this server has them all, else None; never trains."""
    results = {placement: cached_only(_train_placement, placement, config, dataset) for placement in placements}
    if not all(result is not None for result in results.values()):
        return None
    step_seconds = cached_only(_time_steps, tuple((p, r.config) for p, r in results.items()), dataset)
    return None if step_seconds is None else (results, step_seconds)


@st.cache_data(max_entries=16, show_spinner="Training a model with batch norm before each activation "
                                            "(only the first time on this server)...")
def _batch_statistics(config, _dataset):
    return compute(topic.batch_statistics, _dataset, config)


preset_run = run_requested()  # a lecture preset asks for both experiments to run once

st.title("Batch normalisation")
result_area = ResultArea("bn_result_area")  # on a projector the accuracy and cost of the models come first
st.markdown(f"**Claim:** {topic.HEADLINE.text}")
with folded("The formulas"):
    formulas_in_two_columns(
        r"\mu_B = \frac{1}{m}\sum_{i=1}^m x_i",
        r"\sigma_B^2 = \frac{1}{m}\sum_{i=1}^m (x_i - \mu_B)^2",
        r"\hat x_i = \frac{x_i - \mu_B}{\sqrt{\sigma_B^2 + \varepsilon}}",
        r"y_i = \gamma \hat x_i + \beta",
        r"\hat\mu \leftarrow 0.99\,\hat\mu + 0.01\,\mu_B",
        r"\hat\sigma^2 \leftarrow 0.99\,\hat\sigma^2 + 0.01\,\sigma_B^2",
    )
    st.caption("Training normalises with the batch's μ_B and σ²_B and updates the moving averages μ̂ and σ̂² "
               "(momentum 0.99); at test time (training=False) the moving averages take their place. The scale γ "
               "and the shift β are weights the optimizer learns (see the end of the page).")

# ----------------------------------------------------------------------
st.header("None, before or after the activation")
placements = st.multiselect("Batch norm: none, before or after the activation", options=list(topic.PLACEMENTS),
                            default=list(topic.PLACEMENTS), key="bn_placements", bind="query-params")
with more_settings("Training settings"):
    left, right = st.columns(2)
    target = left.slider("Target validation accuracy", 0.70, 0.85, 0.78, step=0.01, key="bn_target",
                         bind="query-params")
    epochs = right.slider("Epochs", 2, 6, 4, key="bn_epochs", bind="query-params")
config = config_or_error(**{**topic.BASE_FIELDS, "epochs": epochs})
folded("The setup").caption(
    f"The lecture's model (300/100 relu) and optimizer (SGD, learning rate {topic.BASE_FIELDS['learning_rate']:g}, "
    f"batch {topic.BASE_FIELDS['batch_size']}) on {topic.BASE_FIELDS['train_size']:,} training images, "
    "the same seed for every model."
)
if not placements:
    st.warning("Pick at least one model.")
pressed = st.button("Train and time the models", type="primary", key="bn_train",
                    disabled=config is None or not placements)
trained = bool((pressed or preset_run) and config is not None and placements)
if trained:
    results, step_seconds = _train_and_time(placements, config, get_dataset(config.dataset), target)
    st.session_state[RESULT_KEY], st.session_state[TIMING_KEY] = results, step_seconds
elif config is not None and placements and st.session_state.get(RESULT_KEY) is None:
    # Already trained and timed on this server (a link, or the defaults): shown at once.
    cached = _cached_placements(placements, config, get_dataset(config.dataset))
    if cached is not None:
        st.session_state[RESULT_KEY], st.session_state[TIMING_KEY] = cached

results = stored_result(RESULT_KEY, "Press **Train and time the models**. Three models take a few seconds each.")
step_seconds = st.session_state.get(TIMING_KEY)
if results is not None:
    with result_area.head(trained):
        left, right = st.columns(2)
        chart(topic.accuracy_per_epoch_figure(results, target), container=left, key="bn_accuracy_chart")
        chart(topic.seconds_per_epoch_figure(results, step_seconds), container=right, key="bn_seconds_chart")
    table = topic.placement_table(results, step_seconds, target)
    # Short labels (the full names in their help) keep every column on a laptop's screen; the pinned model stays in
    # sight when a phone scrolls the numbers sideways.
    st.dataframe(table, hide_index=True, column_config={
        "model": st.column_config.TextColumn(pinned=True),
        "s per epoch (timed)": st.column_config.NumberColumn(
            "s/epoch timed", format="%.3f",
            help="Seconds per epoch: best of several interleaved timings of 100 steps, times the steps per epoch"),
        "ms per step (timed)": st.column_config.NumberColumn(
            "ms/step timed", format="%.3f", help="Milliseconds per step, from the same timings"),
        "s per epoch (run)": st.column_config.NumberColumn(
            "s/epoch run", format="%.3f",
            help="Seconds per epoch: median wall time of this run's epochs after the first (noisy on a shared server)"),
        "validation accuracy": st.column_config.NumberColumn("val. acc.", format="%.3f",
                                                             help="Validation accuracy after the last epoch"),
        "test accuracy": st.column_config.NumberColumn("test acc.", format="%.3f", help="Test accuracy"),
    })
    reached = {p: topic.epochs_to_target(r.history, target) for p, r in results.items()}
    reached_text = "; ".join(
        f"{topic.PLACEMENTS[p]}: {f'epoch {e}' if e else f'not within {results[p].config.epochs} epochs'}"
        for p, e in reached.items())
    cost_text = ""
    if "none" in step_seconds:
        # The direction in words: "costs -3% against none" left the reader to work out that it was faster.
        cost_text = " ".join(
            f"A step with batch norm {topic.SHORT_LABELS[p]} takes "
            + (f"{abs(extra):.0%} {'longer' if extra > 0 else 'less time'} than" if round(extra, 2) else "as long as")
            + " one without." for p, extra in topic.relative_cost(step_seconds).items())
    st.success(
        f"**What to notice.** Epochs to {target:.0%}: {reached_text}. The bars are the cost of an epoch, timed as "
        "the best of several interleaved runs of 100 steps, so other users of the server disturb them little: "
        f"batch norm adds work to every step. {cost_text} The first epoch of a batch-norm model is judged with "
        "moving statistics that are still catching up (see below)."
    )
    if topic.is_default_comparison(results) and target == topic.DEFAULT_TARGET:
        st.markdown("Measured at these defaults and checked on every test run:\n\n"
                    + markdown_list(topic.PLACEMENT_CLAIMS))
    if "before" in results:
        show_keras_code(results["before"].config)

# ----------------------------------------------------------------------
st.header("Batch statistics in training, moving statistics at test time")
with more_settings("Statistics settings"):
    stats_images = st.select_slider(
        "Training images (2 epochs, batch 32)", options=[1_000, 2_000, 5_000, 10_000], value=5_000,
        key="bn_stats_images", bind="query-params",
        help="More steps let the moving averages (momentum 0.99) forget their start values of mean 0 and variance 1.",
    )
stats_config = config_or_error(**{**topic.STATS_FIELDS, "train_size": stats_images})
pressed = st.button("Train and read the statistics", type="primary", key="bn_stats_run", disabled=stats_config is None)
if (pressed or preset_run) and stats_config is not None:
    st.session_state[STATS_KEY] = _batch_statistics(stats_config, get_dataset(stats_config.dataset))
elif stats_config is not None:  # already trained on this server: shown at once
    keep_cached(STATS_KEY, _batch_statistics, stats_config, get_dataset(stats_config.dataset))

stats = stored_result(STATS_KEY, "Press **Train and read the statistics** (a few seconds).")
if stats is not None:
    chart(topic.statistics_figure(stats), key="bn_statistics_chart")
    st.markdown("**Test accuracy** of the same trained model, normalising with:")
    left, middle, right = st.columns(3)
    left.metric("Moving statistics", f"{stats.test_accuracy_inference:.1%}",
                help="model(x, training=False): what predict() and evaluate() do.")
    middle.metric("Batch statistics, 256 images", f"{stats.test_accuracy_batches:.1%}",
                  help="model(x, training=True) on batches of 256 test images.")
    right.metric("Batch statistics, 1 image", f"{stats.test_accuracy_batch_of_one:.1%}",
                 help=f"{topic.BATCH_ONE_IMAGES} test images, each alone in its batch, training=True.")
    # Means and variances side by side, each four columns narrow enough for a phone, where they stack.
    table = stats.table()
    for container, statistic in zip(st.columns(2), ("mean", "variance")):
        columns = ["unit", f"batch {statistic}", f"moving {statistic}", f"all-images {statistic}"]
        container.markdown(f"**{statistic.capitalize()}** of the first units")
        container.dataframe(table[columns], hide_index=True, key=f"bn_stats_{statistic}", column_config={
            f"batch {statistic}": st.column_config.NumberColumn("batch", format="%.3f",
                                                                help=f"{statistic.capitalize()} of one batch"),
            f"moving {statistic}": st.column_config.NumberColumn("moving", format="%.3f",
                                                                 help=f"The layer's moving {statistic}"),
            f"all-images {statistic}": st.column_config.NumberColumn(
                "all images", format="%.3f", help=f"{statistic.capitalize()} over all training images"),
        })
    same = "every image got the same class" if stats.same_prediction_batch_of_one else "predictions were poor"
    st.success(
        f"**What to notice.** After {stats.steps:,} steps the moving averages still hold "
        f"{stats.leftover:.1%} (= 0.99^{stats.steps}) of their start values, so they sit near the statistics of "
        "all training images (blue), while a single batch (orange) scatters around them. At test time Keras uses "
        f"the moving statistics: the layer's output matched that formula to {stats.inference_matches_moving:.1e}, "
        f"and in training the batch formula to {stats.training_matches_batch:.1e}. With batch statistics a single "
        f"image is normalised by itself: its values minus its own mean are all zero, so {same} "
        f"({stats.test_accuracy_batch_of_one:.0%}). Try 1,000 images: its 64 steps leave 0.99^64 = 53% of the start "
        "values in the moving averages."
    )
    with st.expander("Show Keras code"):
        st.code(topic.statistics_code(), language="python")

    st.subheader("γ and β are learned")
    chart(topic.scale_shift_figure(stats), key="bn_scale_shift_chart")
    moved = stats.moved_share()
    st.markdown(
        f"Normalising forces every unit to mean 0 and variance 1; γ and β give that back where it helps. Keras "
        f"starts them at 1 and 0. In this run {moved['gamma']:.0%} of the units' γ and {moved['beta']:.0%} of their "
        f"β moved by more than {topic.MOVED_TOLERANCE:g}: small steps, at SGD's learning rate of "
        f"{stats.config.learning_rate:g} over {stats.steps:,} steps, but steps of the loss's gradient.")
    if stats.is_default:
        st.markdown("Measured at these defaults and checked by the tests:\n" + markdown_list(topic.STATS_CLAIMS))

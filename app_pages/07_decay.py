"""Learning-rate decay.

Teaching point: with inverse-time decay the learning rate shrinks as
lr / (1 + decay * t), so training can start with large steps and still settle.
The slides' `SGD(lr=0.01, decay=1e-4)` does not decay in Keras 3: `decay=` is
ignored, and the Keras 3 spelling is an `InverseTimeDecay` schedule. The measured
outcomes the page states are lab.topics.decay.CLAIMS.
"""

import streamlit as st

from lab.claims import markdown_list
from lab.runs import with_dashes
from lab.topics import decay as topic
from lab.worker import lean_train
from ui.common import config_or_error, get_dataset, show_keras_code, stored_result
from ui.service import compute, keep_cached
from ui.present import ResultArea, chart, folded, more_settings
from ui.presets import run_requested

RESULT_KEY = "decay_results"


@st.cache_data(show_spinner="Asking Keras 3 what it does with decay=...")
def _ignored_decay(learning_rate: float, decay: float, steps: int):
    # Cached: the answer depends only on these numbers, so every session shares it.
    return compute(topic.ignored_decay_check, learning_rate, decay, steps, quick=True)


@st.cache_data(max_entries=16, show_spinner="Training with and without decay (only the first time on this server)...")
def _compare_decay(config, _dataset):
    # Cached: every session asking for the same settings gets the same two runs at once.
    return compute(topic.compare_decay, _dataset, config, trainer=lean_train)


preset_run = run_requested()  # a lecture preset asks for the comparison to run once
st.title("Learning-rate decay")
result_area = ResultArea("decay_result_area")  # on a projector the two runs come first
st.markdown(f"**Claim:** {topic.HEADLINE.text}")
with folded("The schedule's formula"):
    st.markdown(
        "The slides call this the **Adaptive Learning Rate**. The rate adapts only to the number of steps taken, "
        "on a schedule fixed before training starts. AdaGrad, RMSprop and Adam (page 12) adapt each weight's "
        "rate to its own gradients instead."
    )
    st.latex(r"\eta_t = \frac{\eta_0}{1 + \text{decay} \cdot t}")
    st.caption("t counts the steps (weight updates) taken so far, not the epochs.")

left, right = st.columns(2)
learning_rate = left.select_slider("Initial learning rate η₀", options=[0.01, 0.03, 0.1, 0.3], value=0.3,
                                   key="decay_learning_rate", bind="query-params")
decay = right.select_slider("Decay per step", options=list(topic.DECAY_OPTIONS), value=1e-2,
                            format_func=lambda value: f"{value:g}", key="decay_rate", bind="query-params")
with more_settings("Training settings"):
    epochs = st.slider("Epochs", 1, 5, 3, key="decay_epochs", bind="query-params")
train_size = topic.BASE_FIELDS["train_size"]
config = config_or_error(**{**topic.BASE_FIELDS, "learning_rate": learning_rate, "decay": decay, "epochs": epochs})

# ----------------------------------------------------------------------
st.header("The schedule, step by step")
horizon = st.radio(
    "Horizon", list(topic.HORIZONS), horizontal=True, key="decay_horizon", bind="query-params",
    help="30 epochs of all 55,000 training images in batches of 32 are 51,570 steps: a long run, chosen here "
         "so that the slides' decay=1e-4 shows.",
)
total_steps = config.steps_per_epoch_estimate * epochs if config else 0
if horizon == topic.HORIZONS[1]:
    total_steps = topic.FULL_DATA_STEPS
if config is not None:
    # Keras's own InverseTimeDecay computes the curve, in the worker (a quick job, no queue).
    chart(compute(topic.schedule_figure, learning_rate, decay, total_steps, quick=True), key="decay_schedule_chart")
    end_rate = compute(topic.rate_after, learning_rate, decay, total_steps, quick=True)
    slide_end = compute(topic.rate_after, topic.SLIDE_LEARNING_RATE, topic.SLIDE_DECAY, total_steps, quick=True)
    st.caption(
        f"After {total_steps:,} steps your rate is {end_rate:.3g} ({end_rate / learning_rate:.0%} of η₀). "
        f"The slides' decay=1e-4 would leave {slide_end:.3g} ({slide_end / topic.SLIDE_LEARNING_RATE:.0%} of 0.01): "
        "1e-4 is tuned for tens of thousands of steps and is invisible in a few hundred."
    )

# ----------------------------------------------------------------------
st.header("The slides' spelling in Keras 3")
st.code(f"optimizer = keras.optimizers.SGD(lr={topic.SLIDE_LEARNING_RATE:g}, decay={topic.SLIDE_DECAY:g})  # slides (Keras 2)",
        language="python")
check = _ignored_decay(topic.SLIDE_LEARNING_RATE, topic.SLIDE_DECAY, 1_000)
st.warning(
    f"**`decay=` is ignored in Keras 3.** `lr=` raises an error, but `decay=` does not: Keras only emits a "
    f"Python warning (*{check.warning}*), easy to miss in a notebook or a log, and trains **without** decay. "
    f"After {check.steps:,} real updates, `SGD(learning_rate=0.01, decay=1e-4)` still has learning rate "
    f"**{check.old_rate_after:.5f}**; the Keras 3 schedule below has **{check.new_rate_after:.5f}** "
    f"(= 0.01 / (1 + 1e-4 × {check.steps:,}) = {check.expected:.5f})."
)
st.code(
    "# Keras 3: the schedule the slides meant\n"
    "schedule = keras.optimizers.schedules.InverseTimeDecay(\n"
    "    0.01, decay_steps=1, decay_rate=1e-4\n"
    ")\n"
    "optimizer = keras.optimizers.SGD(learning_rate=schedule)",
    language="python",
)
if config is not None and config.decay:
    st.caption("For the settings above:")
    st.code(topic.spelling_code(config), language="python", wrap_lines=True)

# ----------------------------------------------------------------------
st.header("Training with and without decay")
st.markdown(
    f"Two runs from the same initial weights on the same {train_size:,} images and batches: "
    f"a constant rate {learning_rate:g} and the decayed one."
)
if config is not None and config.decay == 0:
    st.warning("With decay 0 the two runs are identical. Pick a decay above 0 to compare.")
pressed = st.button("Train with and without decay", type="primary", key="decay_train",
                    disabled=config is None or config.decay == 0)
trained = bool((pressed or preset_run) and config is not None and config.decay > 0)
if trained:
    st.session_state[RESULT_KEY] = _compare_decay(config, get_dataset(config.dataset))
elif config is not None and config.decay > 0:  # already trained on this server: shown at once
    keep_cached(RESULT_KEY, _compare_decay, config, get_dataset(config.dataset))

results = stored_result(RESULT_KEY, "Press **Train with and without decay**. The two default runs take a few seconds.")
if results is not None:
    with result_area.head(trained):
        left, right = st.columns(2)
        chart(topic.logged_rates_figure(results), container=left, key="decay_rates_chart")
        chart(topic.loss_comparison_figure(results), container=right, key="decay_loss_chart")
    for result in results.values():
        if result.stop_reason == "diverged":
            st.warning(f"The run {topic.run_label(result)} diverged: {result.stop_detail}")
    table = topic.comparison_table(results).drop(columns="stop")
    # A run that diverged before its first epoch ended has no epoch values: a dash, where the grid wrote "None".
    st.dataframe(with_dashes(table, {column: "{:.4f}" for column in table.columns if column != "schedule"}),
                 hide_index=True)
    constant, decayed = table.iloc[0], table.iloc[1]
    better = "lower" if decayed["final validation loss"] < constant["final validation loss"] else "higher"
    st.success(
        "**What to notice.** Both runs take the same first step size. The decayed run's steps shrink "
        f"(to {decayed['learning rate at the end']:.3g} here), and its final validation loss is "
        f"**{better}** ({decayed['final validation loss']:.3f} against {constant['final validation loss']:.3f}). "
        "How strong a decay is too strong depends on the starting rate: try decay 0.1 from η₀ 0.3, then from 0.01."
    )
    setup = topic.BASE_FIELDS
    st.markdown(f"Measured on this page's setup ({setup['train_size']:,} images, {setup['epochs']} epochs, seed "
                f"{setup['seed']}), and checked on every test run:\n\n" + markdown_list(topic.RUN_CLAIMS))
    show_keras_code(results["decay"].config)

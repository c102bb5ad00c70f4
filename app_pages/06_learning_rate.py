"""SGD and the learning rate.

Teaching point: the learning rate is the size of each SGD step. Too small and the
loss crawls; too large and it diverges; a learning-rate range test finds the good
region in one short run. One step uses one mini-batch; one epoch is one pass over
the training images.
"""

import streamlit as st

from lab.claims import markdown_list
from lab.runs import with_dashes
from lab.topics import learning_rate as topic
from lab.worker import lean_train
from ui.common import config_or_error, get_dataset, show_keras_code, stored_result
from ui.service import compute, keep_cached
from ui.present import ResultArea, chart, folded, more_settings
from ui.presets import run_requested

COMPARE_KEY = "lr_compare_results"
RANGE_KEY = "lr_range_result"
RESULT_HEIGHT = 340  # the loss curves' height on a projector: with the claim and the rates they fit 1280x720


@st.cache_data(max_entries=16, show_spinner="Training each learning rate (only the first time on this server)...")
def _compare(rates: tuple, config, _dataset):
    # Cached: every session asking for the same rates and settings gets the same runs at once.
    return compute(topic.compare_learning_rates, _dataset, rates, config, trainer=lean_train)


@st.cache_data(max_entries=16, show_spinner="Running the range test (only the first time on this server)...")
def _range_test(config, min_rate: float, max_rate: float, steps: int, _dataset):
    return compute(topic.range_test, _dataset, config, min_rate, max_rate, steps)


preset_run = run_requested()  # a lecture preset asks for both experiments to run once
st.title("SGD and the learning rate")
result_area = ResultArea("lr_result_area")  # on a projector the loss curves come first, then the claim and the knob
st.markdown(f"**Claim:** {topic.HEADLINE.text}")
with folded("The SGD step"):
    st.latex(r"\theta_{t+1} = \theta_t - \eta \, \nabla_\theta L_{\text{batch}}(\theta_t)")
    st.caption("Every step moves the weights θ against the gradient of one mini-batch's loss, scaled by the "
               "learning rate η.")

# ----------------------------------------------------------------------
st.header("Too small, just right, too large")
rates = st.multiselect(
    "Learning rates to compare", options=list(topic.RATE_OPTIONS), default=list(topic.DEFAULT_RATES),
    format_func=lambda rate: f"{rate:g}", key="lr_rates", bind="query-params",
    help="Each rate trains the same model from the same initial weights on the same batches.",
)
with more_settings("Training settings"):
    left, right = st.columns(2)
    batch_size = right.select_slider("Batch size", options=[8, 16, 32, 64, 128, 256], value=32, key="lr_batch_size",
                                     bind="query-params")
    train_size = left.select_slider("Training images", options=[1_000, 2_000, 5_000], value=2_000,
                                    key="lr_train_size", bind="query-params")
    epochs = right.slider("Epochs", 1, 3, 2, key="lr_epochs", bind="query-params")

steps = topic.epoch_and_steps(train_size, batch_size, epochs)
full = topic.epoch_and_steps(topic.FULL_TRAINING_IMAGES, batch_size)
last = f" and one last batch of {steps['last_batch']}" if steps["last_batch"] else ""
folded("Epoch and step").info(
    f"**Epoch and step.** One *step* = one mini-batch of {batch_size} images = one weight update. "
    f"One *epoch* = one pass over all {train_size:,} training images = **{steps['steps_per_epoch']:,} steps** "
    f"({steps['full_batches']:,} batches of {batch_size}{last}). {epochs} epoch(s) = {steps['total_steps']:,} steps. "
    f"On the slides' 55,000 images the same batch size gives {full['steps_per_epoch']:,} steps per epoch."
)

config = config_or_error(**{**topic.BASE_FIELDS, "train_size": train_size, "batch_size": batch_size, "epochs": epochs})
pressed = st.button("Train these learning rates", type="primary", key="lr_train", disabled=not rates)
trained = bool((pressed or preset_run) and rates and config is not None)
if trained:
    st.session_state[COMPARE_KEY] = _compare(tuple(sorted(set(rates))), config, get_dataset(config.dataset))
elif rates and config is not None:  # a link or the defaults that this server has already trained: shown at once
    keep_cached(COMPARE_KEY, _compare, tuple(sorted(set(rates))), config, get_dataset(config.dataset))
if not rates:
    st.warning("Pick at least one learning rate.")

results = stored_result(COMPARE_KEY, "Press **Train these learning rates**. The default three runs take a few seconds.")
if results is not None:
    with result_area.head(trained):
        chart(topic.loss_per_step_figure(results), key="lr_loss_chart", projector_height=RESULT_HEIGHT)
    table = topic.summary_table(results)
    # Short labels (the full names in their help) and the long "what happened" sentences below the table keep
    # every column on a laptop's screen; the pinned rate stays in sight when a phone scrolls the numbers.
    # A diverged run has no validation accuracy: its cell shows a dash, where the grid wrote "None".
    st.dataframe(
        with_dashes(table.drop(columns="what happened"), {
            "batch loss at step 0": "{:.3f}", "last batch loss": "{:.3f}", "validation accuracy": "{:.3f}",
            "test accuracy": "{:.3f}", "steps taken": "{:,.0f}"}),
        hide_index=True, column_order=topic.SUMMARY_COLUMN_ORDER,
        column_config={
            "learning rate": st.column_config.TextColumn("lr", help="Learning rate", pinned=True),
            "batch loss at step 0": st.column_config.Column("loss at step 0", help="Batch loss at step 0"),
            "last batch loss": st.column_config.Column("last loss", help="Batch loss of the last step taken"),
            "validation accuracy": st.column_config.Column("val. acc.", help="Validation accuracy"),
            "test accuracy": st.column_config.Column("test acc.", help="Test accuracy"),
            "steps taken": st.column_config.Column("steps", help="Steps taken"),
        },
    )
    st.markdown("\n".join(f"- lr={rate}: {detail}"
                           for rate, detail in zip(table["learning rate"], table["what happened"])))
    verdicts = dict(zip(table["learning rate"], table["verdict"]))
    st.success(
        "**What to notice.** The y axis is logarithmic. "
        + " ".join(f"lr={rate}: **{verdict}**." for rate, verdict in verdicts.items())
        + " A diverged run is stopped as soon as its loss is 10x its start: each step overshoots the minimum "
        "by more than the last. A crawling run's loss barely moves in the same number of steps, so it would "
        "need many more epochs."
    )
    setup = topic.BASE_FIELDS
    st.markdown(f"Measured with the default rates and settings ({setup['train_size']:,} images, {setup['epochs']} "
                f"epochs, seed {setup['seed']}), and checked on every test run:\n\n" + markdown_list(topic.RUN_CLAIMS))
    first = next(iter(results.values())).config
    st.caption("The runs differ only in `learning_rate`. Code of the first run:")
    show_keras_code(first)

# ----------------------------------------------------------------------
st.header("Learning-rate range test")
st.markdown(
    "Train **one** model for a few hundred steps while multiplying the learning rate by a constant factor "
    "every step, from tiny to huge. Plot the loss against the rate: it stays flat (too small), falls "
    "(good region) and finally shoots up (too large)."
)
st.latex(r"\eta_t = \eta_{\min} \left(\frac{\eta_{\max}}{\eta_{\min}}\right)^{t/(T-1)}")
with more_settings("Range-test settings"):
    left, middle, right = st.columns(3)
    min_rate = left.select_slider("Smallest rate", options=[1e-6, 1e-5, 1e-4], value=1e-5,
                                  format_func=lambda rate: f"{rate:g}", key="lr_range_min", bind="query-params")
    max_rate = middle.select_slider("Largest rate", options=[1.0, 3.0, 10.0], value=10.0,
                                    format_func=lambda rate: f"{rate:g}", key="lr_range_max", bind="query-params")
    range_steps = right.slider("Steps", 100, 500, 300, step=50, key="lr_range_steps", bind="query-params")
pressed = st.button("Run the range test", type="primary", key="lr_range_run")
range_config = config_or_error(**{**topic.BASE_FIELDS, "train_size": 10_000, "batch_size": batch_size})
if range_config is not None:
    range_arguments = (range_config, min_rate, max_rate, range_steps, get_dataset(range_config.dataset))
    if pressed or preset_run:
        st.session_state[RANGE_KEY] = _range_test(*range_arguments)
    else:
        keep_cached(RANGE_KEY, _range_test, *range_arguments)

test = stored_result(RANGE_KEY, "Press **Run the range test** (about a second once TensorFlow is loaded).")
if test is not None:
    marks = sorted(results) if results else ()
    chart(topic.range_test_figure(test, marks), key="lr_range_chart")
    left, middle, right = st.columns(3)
    left.metric("Good region from", f"{test.good_low:.2g}")
    middle.metric("Good region to", f"{test.good_high:.2g}")
    right.metric("Suggested rate", f"{test.suggested_rate:.2g}")
    stop_text = (f"It stopped after {len(test.losses)} steps, once the loss had exploded. "
                 if test.stopped_early else "")
    st.success(
        "**What to notice.** Left of the shaded region the loss is flat: those rates are too small to "
        "change anything in a few steps. In the region the loss falls fastest. At its right edge the "
        "loss is lowest, and beyond it the loss turns up: the rate is too large. "
        f"{stop_text}Pick a rate inside the region, below its lowest point (batch size {test.batch_size})."
    )
    with st.expander("Show Keras code"):
        st.code(topic.range_test_code(min_rate, max_rate, range_steps, test.batch_size), language="python")

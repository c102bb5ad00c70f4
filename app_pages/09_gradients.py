"""Vanishing and exploding gradients.

Teaching point: the gradient reaching a deep network's first layer is a product
of one factor per layer. With sigmoid (slope at most 1/4) or small weights the
product shrinks towards the input, so the first layers hardly learn (vanishing);
with large weights it can grow (exploding). Batch normalisation rescales every
layer and keeps the gradients of all layers alike.
"""

import streamlit as st

from lab.claims import markdown_list
from lab.topics import gradients as topic
from lab.worker import lean_train
from ui.common import config_or_error, get_dataset, show_keras_code, stored_result
from ui.service import compute, keep_cached
from ui.present import ResultArea, chart, folded, more_settings
from ui.presets import run_requested

RESULT_KEY = "grad_results"
RESULT_HEIGHT = 360  # the norms chart's height on a projector: with the claim and the two knobs it fits 1280x720


@st.cache_data(max_entries=16, show_spinner="Measuring and training the networks (only the first time on this server)...")
def _depth_experiment(config, with_batch_norm: bool, _dataset):
    # Cached: every session asking for the same network gets the same measurements and runs at once.
    return compute(topic.depth_experiment, _dataset, config, with_batch_norm, trainer=lean_train)


preset_run = run_requested()  # a lecture preset asks for the experiment to run once

st.title("Vanishing and exploding gradients")
result_area = ResultArea("grad_result_area")  # on a projector the norms come first, then the claim and the knobs
st.markdown(f"**Claim:** {topic.HEADLINE.text}")
with folded("The chain rule"):
    st.latex(topic.CHAIN_RULE_LATEX)
    st.latex(topic.CHAIN_RULE_CONVENTION)
    st.latex(r"\sigma'_{\text{sigmoid}}(z) = \sigma(z)\,(1 - \sigma(z)) \le \tfrac14")

left, right = st.columns(2)
activation = left.selectbox("Activation", list(topic.ACTIVATION_OPTIONS), key="grad_activation", bind="query-params")
init_stddev = right.select_slider(
    "Init scale (stddev σ of the random normal weights)", options=list(topic.STDDEV_OPTIONS), value=0.1,
    format_func=lambda value: f"{value:g}", key="grad_init_stddev", bind="query-params",
    help=f"Each hidden layer has {topic.WIDTH} units; σ = 1/√{topic.WIDTH} = 0.1 keeps a linear layer's scale.",
)
with more_settings():
    depth = st.slider("Hidden layers", 2, 10, 10, key="grad_depth", bind="query-params")
    with_batch_norm = st.checkbox("Also train the same network with batch normalisation (before each activation)",
                                  value=True, key="grad_batch_norm", bind="query-params")
config = config_or_error(**{**topic.BASE_FIELDS, "hidden_units": [topic.WIDTH] * depth, "activation": activation,
                            "init_stddev": init_stddev})
folded("The network").caption(
    f"{depth} hidden layers of {topic.WIDTH} {activation} units, SGD learning rate {topic.BASE_FIELDS['learning_rate']:g}, "
    f"{topic.BASE_FIELDS['train_size']:,} training images, {topic.BASE_FIELDS['epochs']} epochs. The gradient norms "
    f"'at start' are measured on one batch of {topic.NORM_BATCH} images before any training."
)

pressed = st.button("Measure and train", type="primary", key="grad_train", disabled=config is None)
trained = bool((pressed or preset_run) and config is not None)
if trained:
    st.session_state[RESULT_KEY] = _depth_experiment(config, with_batch_norm, get_dataset(config.dataset))
elif config is not None:  # already trained on this server: shown at once
    keep_cached(RESULT_KEY, _depth_experiment, config, with_batch_norm, get_dataset(config.dataset))

runs = stored_result(RESULT_KEY, "Press **Measure and train**. The default two runs take a few seconds.")
if runs is not None:
    with result_area.head(trained):
        for run in runs.values():
            if run.stop_reason == "diverged":
                st.warning(f"The network {topic.describe(run.config)} diverged: {run.stop_detail}")
        chart(topic.layer_norms_figure(runs), key="grad_norms_chart", projector_height=RESULT_HEIGHT)
    table = topic.summary_table(runs)
    # Short labels (the full names in their help) keep every column on a laptop's screen. On a phone the short run
    # label is pinned and the slide's numbers (the ratio, the accuracy) come next, in the first screenful: pinned, the
    # long network description filled a 390 px phone, and the ratio was behind a sideways scroll.
    st.dataframe(table, hide_index=True, column_order=topic.SUMMARY_COLUMN_ORDER, column_config={
        "run": st.column_config.TextColumn(pinned=True),
        "hidden_1 gradient norm": st.column_config.NumberColumn(
            "hidden_1 norm", format="%.2e", help="Gradient norm of the first hidden layer's kernel, at start"),
        "output gradient norm": st.column_config.NumberColumn(
            "output norm", format="%.2e", help="Gradient norm of the output layer's kernel, at start"),
        "hidden_1 / output": st.column_config.NumberColumn(format="%.1e"),
        "test accuracy": st.column_config.NumberColumn("test acc.", format="%.3f", help="Test accuracy"),
    })
    chart(topic.accuracy_figure(runs), key="grad_accuracy_chart")
    plain = runs["as configured"]
    ratio = plain.first_to_last
    findings = {
        "vanishing": f"The first layer's gradient is **{1 / ratio:.1e} times smaller** than the output layer's: "
                     "it vanishes on the way back, so the first layers barely move.",
        "exploding": f"The first layer's gradient is **{ratio:.1e} times larger** than the output layer's: "
                     "it explodes on the way back.",
        "huge": "**Every** layer's gradient is huge: the activations blew up in the forward pass"
                + (" and training diverged." if plain.stop_reason == "diverged" else "."),
        "tiny": "**Every** layer's gradient is tiny: with such small weights the signal dies in the forward pass.",
        "healthy": "The gradients of all layers are within a factor of 100 of each other: a healthy network.",
    }
    finding = findings[topic.diagnosis(plain)]
    fix = ""
    if "with batch norm" in runs:
        fixed = runs["with batch norm"]
        fix = (f" With batch normalisation the ratio is {fixed.first_to_last:.2g} and the test accuracy "
               f"{fixed.test_accuracy:.0%} instead of {plain.test_accuracy:.0%}.")
    st.success(f"**What to notice.** The y axis is logarithmic: each grid line is a factor of 10. {finding}{fix}")
    if topic.is_default_experiment(runs):
        st.markdown("Measured at these defaults and checked on every test run:\n\n"
                    + markdown_list(topic.DEFAULT_CLAIMS))
    st.markdown("Try other settings. With 10 hidden layers, measured and checked on every test run:\n\n"
                + markdown_list(topic.TRY_CLAIMS))
    show_keras_code(plain.config)

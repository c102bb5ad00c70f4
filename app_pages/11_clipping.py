"""Gradient clipping: cap the gradient before the step.

Teaching point: `clipvalue` caps each component separately and so can change
the gradient's direction; `clipnorm` rescales each weight tensor on its own, and
only `global_clipnorm` scales the whole gradient and keeps its direction. At a
learning rate that diverges without clipping, `global_clipnorm` comes closest
to a healthy run (the measured outcomes are lab.topics.clipping.CLAIMS).
"""

import numpy as np
import streamlit as st

from lab.admission import train_shared
from lab.plots import gradient_norms_figure
from lab.claims import markdown_list
from lab.topics import clipping
from ui import present, presets
from ui.common import get_dataset, show_keras_code, stored_result
from ui.service import compute, session_id
from ui.live import wait_text

CALC_KEY = "clip_comparison"
CALC_ERROR_KEY = "clip_error"
RESULTS_KEY = "clip_results"
# Numbers as plain as Python writes them ("2", "0.5", "3000"): what a select slider shows is also what
# a shared link carries, so a lecturer can type ?clip_learning_rate=2.
PLAIN_NUMBER = "{:g}".format
RESULT_HEIGHT = 340  # the two runs' losses on a projector: with the numbers above them they fit 1280x720


@st.cache_data(max_entries=16, show_spinner=False)
def clip_comparison(vector: tuple, threshold: float) -> clipping.ClipComparison:
    # Identical requests (every student opening the same link) are clipped once per server.
    # A real Keras optimizer clips it, in the worker, without waiting behind trainings.
    return compute(clipping.compare_clipping, np.array(vector, dtype=np.float64), threshold, quick=True)


# A lecture preset asks once, on the run that opens it, for the page's experiments to run.
preset_run = presets.run_requested()

st.title("Gradient clipping")
result_area = present.ResultArea("clip_result_area")  # on a projector the rescue's numbers and losses come first
st.markdown(
    "**Claim.** Clipping limits the gradient before the optimizer uses it. `clipvalue` caps every component "
    "at the threshold and can **change the direction**. `clipnorm` shrinks **each weight tensor** (every "
    "layer's kernel, every bias) to at most the threshold length, **each on its own**, so the network's whole "
    "gradient can still change direction. Only `global_clipnorm` scales all the gradients together and "
    "**keeps the whole gradient's direction**. For a single vector such as the slides' [0.1, 10] there is "
    "only one tensor, and `clipnorm` and `global_clipnorm` give the same result."
)
with present.folded("The three rules"):
    left, middle, right = st.columns(3)
    with left:
        st.markdown("`clipvalue=c`: each component on its own")
        st.latex(r"g_i \leftarrow \max\bigl(-c,\ \min(c,\ g_i)\bigr)")
    with middle:
        st.markdown("`clipnorm=c`: each weight tensor $g_k$ on its own")
        st.latex(r"g_k \leftarrow g_k \cdot \min\Bigl(1,\ \frac{c}{\lVert g_k \rVert_2}\Bigr)")
    with right:
        st.markdown("`global_clipnorm=c`: all tensors together")
        st.latex(r"g_k \leftarrow g_k \cdot \min\Bigl(1,\ "
                 r"\frac{c}{\sqrt{\textstyle\sum_j \lVert g_j \rVert_2^2}}\Bigr)")

# ----------------------------------------------------------------------
st.header("1. The clipping calculator")
st.caption("Type any gradient; it is clipped by a real Keras SGD optimizer (one step with learning rate 1 "
           "moves a zero variable by exactly minus the clipped gradient).")
with st.form("clip_calculator_form"):
    text_column, threshold_column = st.columns([3, 1])
    vector_text = text_column.text_input(
        "Gradient vector (numbers separated by commas)", value="0.1, 10", key="clip_vector", max_chars=400,
        help="For example 0.1, 10 (the slides' example) or 3, -4, 0.5. Only numbers are read.",
        bind="query-params",
    )
    threshold = threshold_column.number_input(
        "Threshold c", min_value=0.001, max_value=1000.0, value=1.0, step=0.5, key="clip_calc_threshold",
        bind="query-params",
    )
    calculate = st.form_submit_button("Clip", type="primary", key="clip_calculate")

if calculate or preset_run or CALC_KEY not in st.session_state:
    try:
        vector = clipping.parse_vector(vector_text)
        st.session_state[CALC_KEY] = clip_comparison(tuple(vector.tolist()), float(threshold))
        st.session_state[CALC_ERROR_KEY] = None
    except ValueError as error:
        st.session_state[CALC_ERROR_KEY] = str(error)
        if CALC_KEY not in st.session_state:
            # A bad vector in a shared link: show the slides' example rather than nothing.
            st.session_state[CALC_KEY] = clip_comparison(clipping.SLIDE_VECTOR, float(threshold))

if st.session_state.get(CALC_ERROR_KEY):
    st.error(f"That is not a gradient vector: {st.session_state[CALC_ERROR_KEY]}. "
             "Nothing new was clipped; below is the last vector that was (at first, the slides' example).")
comparison = st.session_state.get(CALC_KEY)
if comparison is not None:
    st.table(comparison.table().style.hide(axis="index").format(
        {"norm": "{:.6g}", "angle to original (degrees)": "{:.4f}"}))
    if len(comparison.gradient) == 2:
        present.chart(clipping.clipping_arrows_figure(comparison), key="clip_arrows")
    else:
        present.chart(clipping.clipping_bars_figure(comparison), key="clip_bars")
        st.caption("Arrows need exactly two components; with more, the components are drawn as bars.")
    st.info(
        f"**What to notice.** The `clipvalue` arrow turns away from the original by "
        f"{comparison.angles['value']:.2f} degrees; the `clipnorm` arrow points exactly the same way "
        f"({comparison.angles['norm']:.2f} degrees) and only got shorter. With `clipvalue`, components below the "
        "threshold stay as they are while the big ones are cut, so small components gain weight. The vector "
        "here is a single tensor, so `global_clipnorm` gives the same as `clipnorm`; in a network they differ."
    )
st.caption(
    "A note on the slides: for [0.1, 10] and `clipnorm=1.0` they print [0.00999995, 0.999995], with one 9 too "
    "many in each. The norm of [0.1, 10] is \u221a100.01 = 10.0005, so the exact result is [0.0099995, 0.99995], "
    "which is what Keras gives above."
)

# ----------------------------------------------------------------------
st.header("2. Rescue a diverging run")
st.markdown("The lecture's model is trained twice from the same initial weights and batches: once with plain "
            "SGD, once with the same SGD plus clipping.")
st.markdown("Measured at this form's defaults (learning rate 1.0, threshold 1, 3,000 images, 2 epochs, "
            "seed 42), and checked on every test run:\n\n" + markdown_list(clipping.RESCUE_CLAIMS))
with st.form("clip_train_form"):
    first, second = st.columns(2)
    learning_rate = first.select_slider("Learning rate", options=[0.1, 0.3, 0.5, 1.0, 2.0, 3.0], value=1.0,
                                        key="clip_learning_rate", format_func=PLAIN_NUMBER, bind="query-params")
    mode = second.radio("Clipping", options=list(clipping.CLIP_ARGUMENTS), horizontal=True, key="clip_mode",
                        bind="query-params")
    clip_threshold = first.select_slider("Threshold", options=[0.1, 0.25, 0.5, 1.0, 2.0, 5.0], value=1.0,
                                         key="clip_threshold", format_func=PLAIN_NUMBER, bind="query-params")
    with present.more_settings():
        size_column, epochs_column = st.columns(2)
        train_size = size_column.select_slider("Training images", options=[1_000, 2_000, 3_000, 5_000],
                                               value=3_000, key="clip_train_size", format_func=PLAIN_NUMBER, bind="query-params")
        epochs = epochs_column.slider("Epochs", 1, 3, 2, key="clip_epochs", bind="query-params")
    train_both = st.form_submit_button("Train without and with clipping", type="primary", key="clip_train")

if train_both or preset_run:
    config = clipping.rescue_config(learning_rate=learning_rate, clip=clipping.CLIP_ARGUMENTS[mode],
                                    clip_threshold=clip_threshold,
                                    train_size=train_size, epochs=epochs)
    dataset = get_dataset(config.dataset)
    with st.status("Training...", expanded=False) as status:
        def shared_train(run, data):
            # Through the server-wide queue and result cache; results may be shared, so they are read-only.
            return train_shared(run, on_wait=lambda info: status.update(label=wait_text(info)),
                                owner=session_id()).result

        results = clipping.train_with_and_without_clipping(
            config, dataset, on_start=lambda label: status.update(label=f"Training {label} clipping..."),
            trainer=shared_train)
        status.update(label="Both runs finished.", state="complete")
    st.session_state[RESULTS_KEY] = results

results = stored_result(RESULTS_KEY, "Press **Train without and with clipping**: two runs of a few seconds each. "
                                     + clipping.RESCUE_CLAIMS[0].text)
if results is not None:
    without, with_clip = results["without"], results["with"]
    with result_area.head(bool(train_both or preset_run)):
        left, middle, right = st.columns(3)
        left.metric("Without clipping: validation accuracy", "diverged" if without.stop_reason == "diverged" else
                    f"{without.history['val_accuracy'][-1]:.1%}")
        middle.metric(f"With {clipping.run_label(with_clip)}: validation accuracy",
                      "diverged" if with_clip.stop_reason == "diverged"
                      else f"{with_clip.history['val_accuracy'][-1]:.1%}")
        right.metric("Steps clipped", f"{with_clip.clipped_fraction:.0%}",
                     help="Share of the steps at which clipping changed the gradient (TrainResult.clipped_fraction).")
        st.caption(f"Without clipping: {without.stop_detail}  With clipping: {with_clip.stop_detail}")
        present.chart(clipping.clipping_loss_figure(results), key="clip_loss", projector_height=RESULT_HEIGHT)
    present.chart(gradient_norms_figure(with_clip.step_log, with_clip.layer_names, clipped=True), key="clip_norms")
    learning_rate_text = PLAIN_NUMBER(with_clip.config.learning_rate)
    if without.stop_reason == "diverged" and with_clip.stop_reason != "diverged":
        st.success(
            f"**What to notice.** The same learning rate {learning_rate_text} that blew up plain SGD "
            f"trains with clipping, and clipping acted on {with_clip.clipped_fraction:.0%} of the steps. Surviving "
            "is not the same as training well: compare its validation accuracy with a healthy run in the list "
            f"above. In the norm chart, solid lines are before clipping and dashed after: "
            f"{clipping.CLIP_EFFECT[with_clip.config.clip]}. Clipping caps each step; it does not make the "
            "gradients themselves small."
        )
    elif without.stop_reason != "diverged":
        st.info(
            f"**What to notice.** Plain SGD did not diverge at learning rate {learning_rate_text} here, so there "
            "was nothing to rescue. Pick a larger learning rate to see clipping at work."
        )
    else:
        st.warning(
            f"**What to notice.** `{clipping.run_label(with_clip)}` did not rescue learning rate "
            f"{learning_rate_text}: the clipped run diverged too. {with_clip.stop_detail} "
            f"{clipping.CLIP_EFFECT[with_clip.config.clip]}. Try `global_clipnorm`, or a smaller threshold."
        )
    show_keras_code(with_clip.config)
    with st.expander("Show the calculator's Keras code"):
        st.code(clipping.clipping_code(with_clip.config), language="python")

"""Initialisation.

Teaching point: with all-zero kernels every neuron of a layer computes the same
thing and receives the same gradient, so the neurons stay identical for ever and
the network is stuck near chance. Random, Glorot and He kernels break this
symmetry and train. Zero biases are fine: every run here starts with them.
"""

import streamlit as st

from lab.claims import markdown_list
from lab.topics import initialisation as topic
from ui.common import (config_or_error, formulas_in_two_columns, get_dataset, show_keras_code,
                       stored_result)
from ui.service import compute, keep_cached
from ui.present import ResultArea, chart, folded, more_settings
from ui.presets import run_requested

RESULT_KEY = "init_results"
RESULT_HEIGHT = 400  # the accuracy curves' height on a projector


@st.cache_data(max_entries=16, show_spinner="Training each initialisation (only the first time on this server)...")
def _compare_initialisers(names: tuple, config, _dataset):
    # Cached: every session asking for the same initialisations and settings gets the same runs at once.
    return compute(topic.compare_initialisers, _dataset, names, config)


preset_run = run_requested()  # a lecture preset asks for the comparison to run once

st.title("Initialisation")
result_area = ResultArea("init_result_area")  # on a projector the accuracy curves come first
st.markdown(f"**Claim:** {topic.HEADLINE.text}")
with folded("The initialisations"):
    formulas_in_two_columns(
        r"\text{zeros: } w = 0",
        r"\text{random normal: } w \sim \mathcal{N}(0, \sigma^2)",
        r"\text{Glorot: } \operatorname{Var}(w) = \frac{2}{n_\text{in} + n_\text{out}}",
        r"\text{He: } \operatorname{Var}(w) = \frac{2}{n_\text{in}}",
    )

names = st.multiselect(
    "Kernel initialisations (Keras's `kernel_initializer=` names)", options=list(topic.INITIALISERS),
    default=list(topic.INITIALISERS), key="init_initialisers", bind="query-params",
)
with more_settings():
    left, middle, right = st.columns(3)
    stddev = left.select_slider(
        "Random normal stddev σ", options=list(topic.STDDEV_OPTIONS), value=0.05,
        format_func=lambda value: f"{value:g}", key="init_stddev", bind="query-params",
        help="Only used by random normal. 0.05 is Keras's default; try 0.0001 and 1.0.",
    )
    activation = middle.selectbox("Hidden activation", ["relu", "tanh", "sigmoid"], key="init_activation",
                                  bind="query-params")
    epochs = right.slider("Epochs", 1, 5, 3, key="init_epochs", bind="query-params")
config = config_or_error(**{**topic.BASE_FIELDS, "activation": activation, "init_stddev": stddev, "epochs": epochs})
folded("The setup").caption(
    f"The lecture's model (300 and 100 {activation} units), SGD with learning rate "
    f"{topic.BASE_FIELDS['learning_rate']:g}, {topic.BASE_FIELDS['train_size']:,} training images, the same seed "
    "for every run. Biases start at zero in every run (the Keras default)."
)

if not names:
    st.warning("Pick at least one initialisation.")
pressed = st.button("Train each initialisation", type="primary", key="init_train", disabled=config is None or not names)
trained = bool((pressed or preset_run) and config is not None and names)
if trained:
    st.session_state[RESULT_KEY] = _compare_initialisers(tuple(names), config, get_dataset(config.dataset))
elif config is not None and names:  # already trained on this server: shown at once
    keep_cached(RESULT_KEY, _compare_initialisers, tuple(names), config, get_dataset(config.dataset))

runs = stored_result(RESULT_KEY, "Press **Train each initialisation**. Four runs take a few seconds.")
if runs is not None:
    with result_area.head(trained):
        chart(topic.accuracy_figure(runs), key="init_accuracy_chart", projector_height=RESULT_HEIGHT)
    layer = st.radio("Layer to look inside", ["hidden_1", "hidden_2"], horizontal=True, key="init_layer",
                     bind="query-params")
    table = topic.summary_table(runs, layer)
    st.dataframe(table, hide_index=True, column_config={
        "test accuracy": st.column_config.NumberColumn(format="%.3f"),
        "distinct neurons": st.column_config.TextColumn(help=f"Neurons of {layer} that differ from every other one"),
        "mean similarity": st.column_config.NumberColumn(
            format="%.3f", help="Average cosine similarity of all pairs of neurons: 1 = all identical"),
        "kernel std at start": st.column_config.NumberColumn(format="%.4f"),
        "largest weight change": st.column_config.NumberColumn(format="%.2e"),
    })

    st.subheader("Are the neurons different from each other?")
    st.caption(
        f"Cosine similarity of the incoming weights of the first {topic.SIMILARITY_NEURONS} neurons of {layer} "
        "after training: 1 (dark red) = identical neurons, 0 (white) = unrelated."
    )
    shown = list(runs)
    # Zeros on the left against Glorot (or the first other run) on the right, when they were trained.
    preferred = [name for name in ("glorot_uniform", *shown) if name in runs and name != "zeros"]
    right_default = shown.index(preferred[0]) if preferred else 0
    left, right = st.columns(2)
    first = left.selectbox("Left heatmap", shown, index=0, format_func=lambda name: runs[name].label, key="init_heatmap_left")
    second = right.selectbox("Right heatmap", shown, index=right_default, format_func=lambda name: runs[name].label,
                             key="init_heatmap_right")
    chart(topic.similarity_figure(runs[first], layer), container=left, key="init_similarity_left")
    chart(topic.similarity_figure(runs[second], layer), container=right, key="init_similarity_right")

    notes = []
    if "zeros" in runs:
        zero = runs["zeros"]
        moved = zero.weight_change[layer] > 0
        notes.append(
            f"With **zeros** the {zero.width[layer]} neurons of {layer} are **{zero.distinct[layer]} distinct neuron(s)**: "
            + ("their weights did move, but all in lockstep, because identical neurons get identical gradients. "
               if moved else
               "their weights never moved at all: every neuron outputs the same value and gets the same, here zero, gradient. ")
            + f"Test accuracy {zero.test_accuracy:.0%} (chance is 10%)."
        )
    learners = [run for name, run in runs.items() if name != "zeros"]
    if learners:
        notes.append(
            f"With random kernels, distinct neurons of {layer} and test accuracy: "
            + ", ".join(f"{run.label} {run.distinct[layer]} of {run.width[layer]}, {run.test_accuracy:.0%}"
                        for run in learners)
            + ". All of them started with **zero biases**."
        )
    st.success("**What to notice.** " + " ".join(notes))
    if topic.is_default_experiment(runs):
        st.markdown("Measured at these defaults and checked on every test run:\n\n"
                    + markdown_list(topic.DEFAULT_CLAIMS))
    st.markdown("Move σ (random normal, relu, 3 epochs; measured and checked on every test run):\n\n"
                + markdown_list(topic.TRY_CLAIMS))
    show_keras_code(runs[second].config)

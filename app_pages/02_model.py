"""Model and activations: the lecture's Sequential model, and why it needs a non-linear activation.

Teaching point: the 300/100 model has 266,610 parameters; without a non-linear
activation its Dense layers multiply out to one matrix, so a linear MLP is no
better than a single softmax layer, while relu beats both; softmax outputs sum to 1.
"""

import streamlit as st

from lab.claims import in_points, markdown_list
from lab.topics import architecture as topic
from lab.topics.data_explorer import image_grid_figure
from ui import present, presets
from ui.common import get_dataset, images_and_epochs_form, stored_result
from ui.service import cached_only, compute, warm_start

RESULT_KEY = "model_result"
RESULT_HEIGHT = 340  # the accuracy chart's height on a projector: with the three accuracies it fits 1280x720

st.title("Model and activations")
result_area = present.ResultArea("model_result_area")  # on a projector the three models' accuracies come first
st.markdown(
    "**Claims:** the lecture's model (Flatten, Dense 300 relu, Dense 100 relu, Dense 10 softmax) has "
    "**266,610 parameters**. Without a non-linear activation, stacked Dense layers **collapse to one "
    "linear map** (the identity below). " + topic.HEADLINE_CLAIM.text + " Softmax outputs **sum to 1** by "
    "construction."
)


@st.cache_data(max_entries=64, show_spinner=False)
def _layer_table(first: int, second: int):
    # Keras builds the model in the worker (a quick job); the table for given widths never changes.
    return compute(topic.lecture_layer_table, (first, second), quick=True)


@st.cache_data(max_entries=48, show_spinner=False)
def _train_model(_dataset, dataset_name: str, kind: str, hidden_units: tuple[int, int], train_size: int, epochs: int,
                 _long: bool = True):
    # One model per call, cached alone (as on the batch-norm page): each curve shows as soon as its
    # model has trained. Deterministic for its arguments, so a lecture preset trains once per server.
    # A short one may take the service's short lane instead of waiting behind two long trainings.
    return compute(topic.train_model_kind, _dataset, kind, hidden_units, train_size, epochs, long=_long)


def _experiment_args(hidden_units: tuple[int, int], train_size: int, epochs: int) -> tuple:
    dataset = get_dataset("fashion_mnist")
    return dataset, dataset.name, hidden_units, train_size, epochs


def _run_experiment(hidden_units: tuple[int, int], train_size: int, epochs: int):
    """Train the three models one by one, drawing each curve as its model finishes; return the whole result."""
    dataset, name, *settings = _experiment_args(hidden_units, train_size, epochs)
    long = warm_start().is_long(topic.cost_config(hidden_units, train_size, epochs))
    progress, partial, runs = st.progress(0.0), st.empty(), {}
    # The chart's empty axes first: the browser loads its charting library (3-4 s on a busy machine) while the
    # first model trains, instead of after it, so the first curve shows as soon as it has trained.
    present.chart(topic.accuracy_figure(runs, epochs), container=partial, key="model_partial_axes")
    for index, kind in enumerate(topic.MODEL_KINDS):
        progress.progress(index / len(topic.MODEL_KINDS), text=f"Training the {topic.MODEL_LABELS[kind]} "
                                                                "(only the first time on this server)...")
        runs[kind] = _train_model(dataset, name, kind, *settings, _long=long)
        present.chart(topic.accuracy_figure(runs, epochs), container=partial, key=f"model_partial_{index}")
    progress.empty()
    partial.empty()
    return _combined(runs, dataset, hidden_units, train_size, epochs)


def _cached_experiment(hidden_units: tuple[int, int], train_size: int, epochs: int):
    """The whole result when this server has trained all three models for these settings, else None; never trains."""
    dataset, name, *settings = _experiment_args(hidden_units, train_size, epochs)
    runs = {kind: cached_only(_train_model, dataset, name, kind, *settings) for kind in topic.MODEL_KINDS}
    if any(run is None for run in runs.values()):
        return None
    return _combined(runs, dataset, hidden_units, train_size, epochs)


def _combined(runs: dict, dataset, hidden_units: tuple[int, int], train_size: int, epochs: int):
    return topic.combine_model_runs(runs, hidden_units, train_size, epochs, topic.LEARNING_RATE, dataset.class_names)


def _show_result(result, trained: bool = False) -> None:
    """The three models' accuracies, the collapse check and the softmax outputs, from a stored result."""
    with result_area.head(trained):
        columns = st.columns(3)
        for column, kind in zip(columns, topic.MODEL_KINDS):
            column.metric(f"{kind}: test accuracy", f"{result.test_accuracy[kind]:.1%}",
                          help=f"{topic.MODEL_LABELS[kind]}, {result.parameters[kind]:,} parameters")
        present.chart(topic.accuracy_figure(result), key="model_accuracy", projector_height=RESULT_HEIGHT)

    linear, relu = result.collapse["linear"], result.collapse["relu"]
    left, right = st.columns(2)
    # Short labels, the comparison in their help: a label wider than its column is cut on a projector.
    left.metric("Linear MLP: largest logit difference", f"{linear.max_logit_difference:.1e}",
                help="Between the linear MLP and the single matrix its layers multiply out to; largest "
                     f"probability difference {linear.max_probability_difference:.1e}.")
    left.metric("Same predicted class", f"{linear.prediction_agreement:.1%}")
    right.metric("Relu MLP: largest logit difference", f"{relu.max_logit_difference:.3g}",
                 help="Between the relu MLP and the product of its weight matrices, formed in the same way.")
    right.metric("Same predicted class", f"{relu.prediction_agreement:.1%}")
    present.chart(topic.collapse_figure(result.collapse), key="model_collapse")
    versus_softmax = in_points(result.linear_minus_softmax, "above the softmax layer's", "below the softmax layer's",
                               "the same as the softmax layer's")
    standing = in_points(result.relu_lead, "above the better of the two", "below the better of the two",
                         "the same as the better of the two")
    st.info(
        f"**What to notice:** the linear MLP's {result.parameters['linear']:,} parameters multiply out to one "
        f"784 x 10 matrix that reproduces its outputs to float precision (largest difference "
        f"{linear.max_logit_difference:.0e}), so it can only draw the same boundaries as a single softmax layer: "
        f"its test accuracy is {versus_softmax}. Relu breaks the collapse "
        f"(the same product misses its logits by up to {relu.max_logit_difference:.3g}), and its test accuracy is "
        f"{standing}."
    )
    if (result.hidden_units, result.train_size, result.epochs) == (
            topic.DEFAULT_HIDDEN_UNITS, topic.DEFAULT_TRAIN_SIZE, topic.DEFAULT_EPOCHS):
        st.markdown("Measured at these defaults and checked by the tests:\n" + markdown_list(topic.RESULT_CLAIMS))
    else:
        st.caption("The tested claims are about the page's defaults (300/100 units, 10,000 images, 6 epochs); with "
                   "these settings only the measured numbers above apply.")

    # ------------------------------------------------------------------
    st.header("Softmax outputs sum to 1")
    st.latex(r"\hat{p}_k = \frac{e^{z_k}}{\sum_{j=1}^{10} e^{z_j}} \quad\Rightarrow\quad "
             r"\sum_{k=1}^{10} \hat{p}_k = 1")
    index = st.slider("Test image", 0, 99, 0, key="model_image_index", bind="query-params")
    dataset = get_dataset("fashion_mnist")
    left, right = st.columns([1, 3])
    present.chart(image_grid_figure(dataset.x_test[index:index + 1], [dataset.class_names[dataset.y_test[index]]],
                                    columns=1), container=left, key="model_softmax_image")
    present.chart(topic.softmax_figure(result.relu_probabilities[index], result.class_names,
                                       int(dataset.y_test[index])), container=right, key="model_softmax")
    low, high = result.softmax_sum_range
    st.caption(f"Over all {len(result.relu_probabilities):,} test images the relu MLP's outputs sum to between "
               f"{low:.7f} and {high:.7f} (float32 rounding).")

    with st.expander("Show Keras code"):
        st.code(topic.experiment_code(result.hidden_units, result.train_size, result.epochs, result.learning_rate),
                language="python")


# ----------------------------------------------------------------------
st.header("The layers and their parameters")
present.folded("The formula").latex(r"\text{parameters} = \sum_{\ell} \left(n_{\ell-1}\, n_\ell + n_\ell\right)")
left, right = st.columns(2)
first = left.slider("Units in hidden layer 1", 10, 1000, 300, step=10, key="model_units_1", bind="query-params")
second = right.slider("Units in hidden layer 2", 10, 500, 100, step=10, key="model_units_2", bind="query-params")
table = _layer_table(first, second)
total = int(table["parameters"].sum())
dense_counts = table.loc[table["type"] == "Dense", "parameters"]
present.folded("The sum").latex(" + ".join(f"{count:,}".replace(",", r"\,") for count in dense_counts)
                                + r" = " + f"{total:,}".replace(",", r"\,"))
st.metric("Trainable parameters (Keras's count)", f"{total:,}",
          help="model.count_params() of the model built by keras.Sequential")
st.dataframe(table, hide_index=True, key="model_layer_table",
             column_config={"parameters": st.column_config.NumberColumn(format="localized")})
formula = topic.parameter_count((first, second))
if formula == total:
    st.caption(f"The formula gives {formula:,} too. Rescaling and Flatten have no weights.")
else:
    st.error(f"The formula gives {formula:,} but Keras counts {total:,}.")

# ----------------------------------------------------------------------
st.header("Experiment: linear, softmax-only and relu")
with present.folded("Why a linear MLP collapses, and how the three models train"):
    st.latex(r"\big((x W_1 + b_1) W_2 + b_2\big) W_3 + b_3")
    st.latex(r"= x \underbrace{W_1 W_2 W_3}_{W} + \underbrace{b_1 W_2 W_3 + b_2 W_3 + b_3}_{b}")
    st.markdown(
        "Three models are trained identically on the same images (SGD with momentum 0.9, a cosine-decaying "
        "learning rate from 0.05, batch 64, and the gradient's norm capped at 5 so that the deep linear net cannot "
        "blow up; each settles close to its best): a **single softmax layer**, the MLP with "
        "**linear** activations and the MLP with **relu**. Their hidden widths come from the sliders above."
    )
submitted, train_size, epochs = images_and_epochs_form("model_", "Train the three models",
                                                      (2_000, 5_000, 10_000, 20_000), 10_000, 10, 6)

preset_run = presets.run_requested()
experiment = ((int(first), int(second)), int(train_size), int(epochs))
if submitted or preset_run:
    st.session_state[RESULT_KEY] = _run_experiment(*experiment)
elif st.session_state.get(RESULT_KEY) is None:
    # The defaults (or a link) that anyone on this server has already trained show at once; nothing trains here.
    st.session_state[RESULT_KEY] = _cached_experiment(*experiment)

result = stored_result(RESULT_KEY, "Press **Train the three models**: each model's curve shows as soon as it "
                                   "has trained (a few seconds each on a quiet server).")
if result is not None:
    _show_result(result, trained=bool(submitted or preset_run))

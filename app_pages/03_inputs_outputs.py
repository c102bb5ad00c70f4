"""Inputs and outputs: the last layer and the loss follow from what the network predicts.

Teaching point: classification ends in 10 softmax units with cross-entropy,
regression in 1 linear unit with MSE, box prediction in 4 linear units
(x, y, width, height) with MSE; the body of the network stays the same.
"""

import pandas as pd
import streamlit as st

from lab.claims import markdown_list
from lab.topics import outputs as topic
from ui import present, presets
from ui.common import get_dataset, images_and_epochs_form
from ui.service import compute

RESULTS_KEY = "io_results"


@st.cache_data(max_entries=16, show_spinner="Training the model...")
def _run_task(_dataset, dataset_name: str, task: str, train_size: int, epochs: int):
    # Deterministic for its arguments, so a lecture preset trains once per server. It runs in the
    # training worker, in one of the service's training slots.
    return compute(topic.run_task, task, _dataset, train_size, epochs)


def _show_result(result, task: str, spec, trained: bool = False) -> None:
    """The score against its baseline, the model's layers, its predictions and its loss curves."""
    score_format = "{:.1%}" if task == "classification" else ("{:.4f}" if task == "regression" else "{:.2f}")
    with result_area.head(trained, with_chart=False):
        left, right = st.columns(2)
        left.metric(spec.metric[0].upper() + spec.metric[1:], score_format.format(result.score))
        right.metric(f"Baseline: {result.baseline_text}", score_format.format(result.baseline))
    st.subheader("The model: only the last layer is task-specific")
    st.dataframe(result.layers, hide_index=True, key="io_layers",
                 column_config={"parameters": st.column_config.NumberColumn(format="localized")})
    st.caption(f"Loss: `{result.loss_name}`. Output layer: Dense({spec.units}, activation=\"{spec.activation}\").")
    present.chart(topic.predictions_figure(result), key="io_predictions")
    present.chart(topic.loss_figure(result), key="io_loss")

    better = "higher" if task != "regression" else "lower"
    st.info(
        f"**What to notice:** the body (Flatten, Dense 64 relu) is the same for every task; only the last layer "
        f"({spec.units} {spec.activation} unit{'s' if spec.units > 1 else ''}) and the loss ({spec.loss}) change. "
        f"The {spec.metric} is {score_format.format(result.score)} against {score_format.format(result.baseline)} "
        f"for {result.baseline_text} ({better} is better). A softmax would be wrong for brightness or boxes: it "
        "forces outputs between 0 and 1 that sum to 1."
    )
    if (result.train_size, result.epochs) == (topic.DEFAULT_TRAIN_SIZE, topic.DEFAULT_EPOCHS):
        st.markdown("Measured at these defaults and checked by the tests:\n"
                    + markdown_list((topic.TASK_CLAIMS[task],)))
    with st.expander("Show Keras code"):
        st.code(topic.task_code(task, result.train_size, result.epochs), language="python")

st.title("Inputs and outputs")
result_area = present.ResultArea("io_result_area")  # on a projector the score and its baseline come first
st.markdown(
    "**Claim:** **what you predict decides the last layer and the loss**. Classification: **10 softmax units + "
    "cross-entropy**. Regression: **1 linear unit + MSE**. Box prediction: **4 linear units** for x, y, width and "
    "height **+ MSE**. Here the input is the 28 x 28 image and the targets are real, derived from each image: its "
    "class, its mean brightness, the bounding box of its non-zero pixels. The slides' house-price example, at the "
    "bottom, predicts one value from a row of house features."
)

st.table(pd.DataFrame([{"task": spec.name, "output layer": f"Dense({spec.units}, activation=\"{spec.activation}\")",
                        "loss": spec.loss} for spec in topic.TASKS.values()]).set_index("task"))

# Plain task names as options, so that a link reads io_task=box.
task = st.radio("Task", list(topic.TASKS), horizontal=True, key="io_task", bind="query-params",
                help="classification: which of 10 classes; regression: one number; box: x, y, width, height")
spec = topic.TASKS[task]
st.markdown(f"**{spec.label}.** Target: {spec.target}.")
with present.folded("The output and the loss as formulas"):
    st.latex(spec.output_latex)
    st.latex(spec.loss_latex)

submitted, train_size, epochs = images_and_epochs_form("io_", f"Train the {task} model",
                                                      (2_000, 5_000, 10_000, 20_000), 10_000, 8, 4)

results = st.session_state.setdefault(RESULTS_KEY, {})
preset_run = presets.run_requested()
if submitted or preset_run:
    dataset = get_dataset("fashion_mnist")
    results[task] = _run_task(dataset, dataset.name, task, int(train_size), int(epochs))

result = results.get(task)
if result is None:
    st.info(f"Press **Train the {task} model**: Flatten, Dense 64 relu and the {task} head, trained with Adam "
            "in a few seconds. Train each task to compare their heads.")
else:
    _show_result(result, task, spec, trained=bool(submitted or preset_run))

# ----------------------------------------------------------------------
st.header("The slides' example: predicting a house's price")
st.markdown(
    "The input need not be an image. In the slides' regression example each input is a row of **house "
    "features** and the output is **one value**, the price: the last layer is **Dense(1) with no activation** "
    "and the loss is **MSE**, where classification ends in 10 softmax units and cross-entropy."
)
st.caption("These five houses and their prices are **made up** to show the shapes. The app has no house-price "
           "data set, downloads none and trains nothing on these rows.")
st.dataframe(topic.example_houses(), key="io_houses",
             column_config={topic.HOUSE_TARGET: st.column_config.NumberColumn(format="localized")})
shapes = topic.house_price_shapes()
st.latex(r"X \in \mathbb{R}^{n \times %d} \;\longrightarrow\; \hat{y} = h\,w + b \in \mathbb{R}^{n \times %d}"
         % (shapes["inputs"][1], shapes["outputs"][1]))
st.markdown(f"Here n = {shapes['inputs'][0]}: inputs of shape **{shapes['inputs']}**, outputs of shape "
            f"**{shapes['outputs']}**.")
st.table(topic.regression_and_classification_heads())
with st.expander("Show Keras code: the house-price model (builds it, trains nothing)"):
    st.code(topic.house_price_code(), language="python")

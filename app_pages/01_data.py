"""The data: a Fashion-MNIST explorer with MNIST beside it.

Teaching point: Fashion-MNIST has 60,000 training and 10,000 test images of
28x28 grey pixels in 10 classes, exactly the shapes of MNIST's digits, so it is
a drop-in replacement: the same model code trains on either.
"""

import streamlit as st

from lab.claims import markdown_list
from lab.topics import data_explorer as topic
from ui import present, presets
from ui.common import get_dataset, images_and_epochs_form, stored_result
from ui.service import compute

RESULT_KEY = "data_result"


@st.cache_data(max_entries=16, show_spinner="Training on Fashion-MNIST, then on MNIST...")
def _drop_in(_fashion, _mnist, dataset_names: tuple[str, str], train_size: int, epochs: int):
    # Deterministic for its arguments, so a lecture preset trains once per server.
    return compute(topic.drop_in_experiment, [_fashion, _mnist], train_size, epochs)

st.title("The data")
result_area = present.ResultArea("data_result_area")  # on a projector the two accuracies come first once trained
st.markdown(
    "**Claim:** Fashion-MNIST has **60,000 training** and **10,000 test** images, each **28 x 28** grey "
    "pixels, in **10 classes**. MNIST digits have exactly the same shapes, so Fashion-MNIST is a "
    "**drop-in replacement**: the same code trains on either."
)
with present.folded("The shapes as formulas"):
    st.latex(r"x \in \{0, 1, \dots, 255\}^{28 \times 28}")
    st.latex(r"y \in \{0, 1, \dots, 9\}")
    st.latex(r"|\mathcal{D}_\text{train}| = 60\,000, \qquad |\mathcal{D}_\text{test}| = 10\,000")

fashion = get_dataset("fashion_mnist")
mnist = get_dataset("mnist")


@st.cache_data(max_entries=32, show_spinner=False)
def _histogram(name: str, class_index: int | None):
    # Counting 47 million pixels takes a moment; the answer never changes.
    return topic.pixel_histogram(get_dataset(name), class_index)


# ----------------------------------------------------------------------
st.header("Splits, shape and classes")
columns = st.columns(4)
columns[0].metric("Training images", f"{len(fashion.x_train):,}")
columns[1].metric("Test images", f"{len(fashion.x_test):,}")
columns[2].metric("Image shape", " x ".join(map(str, fashion.x_train.shape[1:])))
columns[3].metric("Classes", fashion.num_classes)
st.markdown("**The 10 classes:** " + ", ".join(f"{index} {name}" for index, name in enumerate(fashion.class_names)))
st.dataframe(topic.summary_table([fashion, mnist]), key="data_summary")
if topic.is_drop_in(fashion, mnist):
    st.success("Same image shape, same pixel type, same number of classes: "
               "MNIST and Fashion-MNIST are interchangeable.")
else:
    st.error("The two datasets differ in shape, pixel type or number of classes.")
if len(mnist.x_train) < 60_000:
    st.caption(f"The MNIST copy on this server is a subset ({len(mnist.x_train):,} training and "
               f"{len(mnist.x_test):,} test images); the full MNIST has 60,000 and 10,000, like Fashion-MNIST.")

# ----------------------------------------------------------------------
st.header("Browse the images")
# The class name is what the link carries (data_class=Sneaker), so the list shows plain names.
class_index = st.selectbox(
    "Class (MNIST shows the digit with the same label)", range(fashion.num_classes), key="data_class",
    format_func=lambda index: fashion.class_names[index], bind="query-params",
)
with present.more_settings("More browsing settings"):
    left, middle, right = st.columns(3)
    split = left.radio("Split", ["train", "test"], horizontal=True, key="data_split", bind="query-params")
    count = middle.slider("Images per dataset", 6, 24, 12, step=6, key="data_count", bind="query-params")
    start = right.slider("Show images from number", 0, 990, 0, step=count, key="data_start", bind="query-params",
                         help="Page through the images of the chosen class.")

for dataset in (fashion, mnist):
    positions = topic.class_examples(dataset, class_index, count, split, start)
    images = getattr(dataset, f"x_{split}")[positions]
    titles = [f"#{position}" for position in positions]
    present.chart(
        topic.image_grid_figure(images, titles, title=f"{topic.dataset_label(dataset)}: "
                                f"{dataset.class_names[class_index]} ({split})"),
        key=f"data_grid_{dataset.name}",
    )

# ----------------------------------------------------------------------
st.header("Pixel values")
with present.more_settings("Histogram settings"):
    left, right = st.columns(2)
    by_class = left.toggle("Only the chosen class", value=False, key="data_hist_by_class", bind="query-params")
    log_y = right.toggle("Log scale", value=True, key="data_hist_log", bind="query-params")
chosen = class_index if by_class else None
histograms = {topic.dataset_label(dataset) + (f": {dataset.class_names[class_index]}" if by_class else ""):
              _histogram(dataset.name, chosen) for dataset in (fashion, mnist)}
present.chart(topic.pixel_histogram_figure(histograms, log_y=log_y), key="data_histogram")
with st.expander("Images per class"):
    st.dataframe(topic.class_counts(fashion), hide_index=True, key="data_class_counts")

# ----------------------------------------------------------------------
st.header("Experiment: the same code on both datasets")
st.markdown("Train the lecture's model (300/100 relu, SGD 0.01, batch 32) with identical settings on each "
            "dataset. Only the dataset's name changes.")
submitted, train_size, epochs = images_and_epochs_form("data_", "Train on both datasets", (1_000, 2_000, 4_000, 6_000),
                                                      4_000, 5, 3, sizes_label="Training images per dataset")

preset_run = presets.run_requested()
if submitted or preset_run:
    st.session_state[RESULT_KEY] = {
        "runs": _drop_in(fashion, mnist, (fashion.name, mnist.name), int(train_size), int(epochs)),
        "train_size": train_size, "epochs": epochs,
    }

result = stored_result(RESULT_KEY, "Press **Train on both datasets**: two small runs take a few seconds.")
if result is not None:
    with result_area.head(bool(submitted or preset_run), with_chart=False):
        columns = st.columns(len(result["runs"]))
        for column, run in zip(columns, result["runs"]):
            column.metric(f"{run.label}: test accuracy", f"{run.test_accuracy:.1%}",
                          help=f"validation accuracy {run.val_accuracy:.1%}, trained in {run.seconds:.1f} s")
    st.dataframe(
        [{"dataset": run.label, "parameters": f"{run.parameters:,}", "output shape": str(run.output_shape),
          "validation accuracy": f"{run.val_accuracy:.1%}", "test accuracy": f"{run.test_accuracy:.1%}"}
         for run in result["runs"]],
        hide_index=True, key="data_runs",
    )
    fashion_run, mnist_run = result["runs"]
    order = "higher" if mnist_run.test_accuracy > fashion_run.test_accuracy else "not higher"
    st.info(
        f"**What to notice:** the model, its {fashion_run.parameters:,} parameters and its output shape "
        f"{fashion_run.output_shape} are identical; only the data changed. Here it scores "
        f"{mnist_run.test_accuracy:.1%} on MNIST and {fashion_run.test_accuracy:.1%} on Fashion-MNIST: {order} "
        "on the digits. "
        "Fashion-MNIST was made as a harder drop-in replacement for MNIST."
    )
    if (result["train_size"], result["epochs"]) == (topic.DEFAULT_TRAIN_SIZE, topic.DEFAULT_EPOCHS):
        st.markdown("Measured at these defaults and checked by the tests:\n" + markdown_list(topic.CLAIMS))
    with st.expander("Show Keras code"):
        st.code(topic.drop_in_code(result["train_size"], result["epochs"]), language="python")

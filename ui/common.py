"""Helpers every page uses: the shared dataset, error display, the Keras code view and the small training form."""

from __future__ import annotations

import streamlit as st

from ui import present

from lab.config import DATASET_LABELS, TrainConfig
from lab.data import DataError, Dataset, ensure_local, find_dataset_folder, shared_dataset



@st.cache_resource(show_spinner="Loading the dataset (once per server)...")
def _cached_dataset(name: str) -> Dataset:
    # cache_resource keeps one copy per server process, shared by all sessions;
    # the arrays are uint8 and read-only, so sharing them is safe. This copy is read
    # with NumPy alone; the worker reads its own, and tasks name it (Dataset.__reduce__).
    if find_dataset_folder(name) is None:
        # Only Keras can download the files, and Keras runs in the worker; it leaves them in
        # Keras's cache, where this process then reads them.
        from ui.service import compute

        compute(ensure_local, name, quick=True)
    return shared_dataset(name)


def get_dataset(name: str = "fashion_mnist") -> Dataset:
    """The shared dataset, or a clear error box and a stopped page.

    Args:
        name: "fashion_mnist" or "mnist".
    Returns:
        the Dataset loaded once per server process.
    """
    try:
        return _cached_dataset(name)
    except DataError as error:
        st.error(f"The {DATASET_LABELS.get(name, name)} data could not be loaded.\n\n{error}")
        st.stop()


def config_or_error(**fields) -> TrainConfig | None:
    """Build a TrainConfig from widget values, showing a message instead of a traceback.

    Args:
        **fields: TrainConfig fields.
    Returns:
        the config, or None after showing what is wrong.
    """
    try:
        return TrainConfig(**fields)
    except ValueError as error:
        st.error(str(error))
        return None


def show_keras_code(config: TrainConfig, expanded: bool = False) -> None:
    """An expander with runnable Keras 3 code for `config` and the slide mapping.

    Args:
        config: the run whose code to show.
        expanded: open the expander at once.
    """
    from lab.optimizers import keras_code, old_spelling

    with st.expander("Show Keras code", expanded=expanded):
        st.code(keras_code(config), language="python")
        st.caption("The slides use Keras 2 spellings. Keras 3 equivalents:")
        st.table({"slide (Keras 2)": [old for old, _ in old_spelling(config)],
                  "Keras 3": [new for _, new in old_spelling(config)]})


def images_and_epochs_form(prefix: str, submit_label: str, sizes: tuple[int, ...], default_size: int,
                           max_epochs: int, default_epochs: int,
                           sizes_label: str = "Training images") -> tuple[bool, int, int]:
    """A page's training form: training images and epochs folded under "Training settings", and its button.

    The widgets are keyed "<prefix>train_size", "<prefix>epochs" and "<prefix>submit", and the two
    settings travel in the page's URL, so a shared link reproduces the run.

    Args:
        prefix: the page's widget-key prefix, e.g. "model_".
        submit_label: the button's words.
        sizes: the training-image choices.
        default_size: one of sizes.
        max_epochs: the slider's top.
        default_epochs: the slider's start.
        sizes_label: the images slider's label.
    Returns:
        (whether the button was pressed, training images, epochs).
    """
    with st.form(f"{prefix}form"):
        with present.more_settings("Training settings"):
            left, right = st.columns(2)
            train_size = left.select_slider(sizes_label, list(sizes), value=default_size,
                                            key=f"{prefix}train_size", bind="query-params")
            epochs = right.slider("Epochs", 1, max_epochs, default_epochs, key=f"{prefix}epochs", bind="query-params")
        submitted = st.form_submit_button(submit_label, type="primary", key=f"{prefix}submit")
    return submitted, int(train_size), int(epochs)


def formulas_in_two_columns(*formulas: str) -> None:
    """Show LaTeX formulas two to a row, read left to right, so a page's equations take half the height.

    Args:
        *formulas: LaTeX strings, in reading order.
    """
    columns = st.columns(2)
    for index, formula in enumerate(formulas):
        columns[index % 2].latex(formula)


def stored_result(key: str, prompt: str):
    """A page's stored result; before its first run, say which button to press and what it does.

    Args:
        key: where the page keeps the result in st.session_state.
        prompt: the Markdown line shown until then.
    Returns:
        the result, or None (after the prompt) before the first run.
    """
    result = st.session_state.get(key)
    if result is None:
        st.info(prompt)
    return result

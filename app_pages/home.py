"""Home: what Optimisation Lab teaches and how to use it.

Teaching point: every claim of the lecture can be checked on real data with a
control in your own hands. This page imports no TensorFlow, so it opens at once.
"""

import pandas as pd
import streamlit as st

from lab.optimizers import SLIDE_MAPPING_ROWS
from lab.preset_lists import all_presets, presets_by_page, split_in_two
from ui.catalog import PAGES, by_url_path

# The slide's model, as Home shows it.
MODEL_CODE = """model = keras.Sequential([
    keras.layers.Flatten(input_shape=[28, 28]),
    keras.layers.Dense(300, activation="relu"),
    keras.layers.Dense(100, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(
    loss="sparse_categorical_crossentropy",
    optimizer="sgd",
    metrics=["accuracy"],
)"""

st.title("Optimisation Lab")
st.page_link("app_pages/01_data.py", label="Start here: 1. The data, then the topics in lecture order",
             icon=":material/play_circle:")
st.page_link("app_pages/training_lab.py", label="Or train the lecture's model yourself: the Training Lab",
             icon=":material/model_training:")
st.markdown(
    """
Train the lecture's own Keras model on **real Fashion-MNIST** images, live in your
browser, and watch what the slides claim actually happen: a learning rate that is
too large diverges, zero initialisation never learns, clipping by norm keeps the
direction of the gradient, Adam overtakes plain SGD.

**The model** is the one from the slides:
"""
)
# The compile call is spread over its arguments, so that every line fits a projector and the loss's name a phone;
# on a phone the layer lines wrap inside the block (indented, ui/present.py) instead of hiding their ends behind a
# sideways scroll. The copy button copies the code as shown.
st.code(MODEL_CODE, language="python", wrap_lines=True)
st.markdown("trained on 55,000 training images, with 5,000 held out for validation and 10,000 for the test.")

st.subheader("How to use it")
st.markdown(
    """
1. Pick a page in the sidebar (on a phone: the menu at the top left).
2. Move the controls. Nothing trains until you press a **Train** button, so you can set
   everything first.
3. Watch the curves while the model trains. Your runs stay while you switch pages.
4. Open **Show Keras code** to copy the exact Keras 3 code of a run, including how the
   slide's old Keras 2 spelling (`SGD(lr=..., decay=...)`) maps to today's.
"""
)

groups = presets_by_page(all_presets(), [spec.url_path for spec in PAGES])
if groups:
    st.subheader("Lecture presets")
    st.markdown("One link per slide, grouped by page in the lecture's order: it opens the page set up to make "
                "the slide's point and runs the experiment. Once anyone has run a preset, it answers at once "
                "for everyone.")
    # The first half of the pages goes down the left column and the rest down the right, so reading
    # down a column follows the lecture.
    columns = st.columns(2)
    for column, half in zip(columns, split_in_two(groups)):
        for url_path, items in half:
            page = by_url_path(url_path)
            column.markdown(f"**{page.title}**")
            for item in items:
                column.page_link(page.file, label=item.title, icon=":material/slideshow:",
                                 query_params={"preset": item.slug}, help=item.point)

st.subheader("Keras 2 on the slides, Keras 3 here")
# The rows live in lab.optimizers, where a test builds each Keras 3 spelling and checks what the old one does.
st.table(pd.DataFrame(SLIDE_MAPPING_ROWS, columns=["slide (Keras 2)", "Keras 3", "what happens with the old spelling"]))
st.caption("Data: Fashion-MNIST by Zalando Research (MIT licence); MNIST by LeCun, Cortes and Burges.")

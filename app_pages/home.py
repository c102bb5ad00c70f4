"""Home: what Optimisation Lab teaches and how to use it.

Teaching point: every claim of the lecture can be checked on real data with a
control in your own hands. This page imports no TensorFlow, so it opens at once.
"""

import pandas as pd
import streamlit as st

from lab.optimizers import SLIDE_MAPPING_ROWS
from lab.preset_lists import all_presets
from ui.catalog import by_url_path

st.title("Optimisation Lab")
st.markdown(
    """
Train the lecture's own Keras model on **real Fashion-MNIST** images, live in your
browser, and watch what the slides claim actually happen: a learning rate that is
too large diverges, zero initialisation never learns, clipping by norm keeps the
direction of the gradient, Adam overtakes plain SGD.

**The model** is the one from the slides:

```python
model = keras.Sequential([
    keras.layers.Flatten(input_shape=[28, 28]),
    keras.layers.Dense(300, activation="relu"),
    keras.layers.Dense(100, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
```

trained on 55,000 training images, with 5,000 held out for validation and 10,000 for the test.
"""
)

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

presets = all_presets()
if presets:
    st.subheader("Lecture presets")
    st.markdown("One link per slide: it opens the page set up to make the slide's point and runs the "
                "experiment. Once anyone has run a preset, it answers at once for everyone.")
    columns = st.columns(2)
    for index, item in enumerate(presets):
        page = by_url_path(item.page)
        columns[index % 2].page_link(page.file, label=item.title, icon=":material/slideshow:",
                                     query_params={"preset": item.slug}, help=item.point)

st.subheader("Keras 2 on the slides, Keras 3 here")
# The rows live in lab.optimizers, where a test builds each Keras 3 spelling and checks what the old one does.
st.table(pd.DataFrame(SLIDE_MAPPING_ROWS, columns=["slide (Keras 2)", "Keras 3", "what happens with the old spelling"]))
st.caption("Data: Fashion-MNIST by Zalando Research (MIT licence); MNIST by LeCun, Cortes and Burges.")

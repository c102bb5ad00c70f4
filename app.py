"""Optimisation Lab: the entry point. Run with `streamlit run app.py`.

It only sets up the page and the navigation; every page lives in pages/ and
every computation in lab/. TensorFlow is not imported here, so the Home page
opens at once.
"""

import streamlit as st

st.set_page_config(page_title="Optimisation Lab", page_icon=":material/monitoring:", layout="wide")

PAGES = {
    "Start": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/training_lab.py", title="Training Lab", icon=":material/model_training:"),
    ],
}

st.navigation(PAGES).run()

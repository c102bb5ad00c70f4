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
        st.Page("pages/training_lab.py", title="Training Lab", icon=":material/model_training:",
                url_path="training-lab"),
    ],
    "Lecture topics": [
        st.Page("pages/01_data.py", title="The data", icon=":material/image:", url_path="data"),
        st.Page("pages/02_model.py", title="Model and activations", icon=":material/account_tree:", url_path="model"),
        st.Page("pages/03_inputs_outputs.py", title="Inputs and outputs", icon=":material/input:", url_path="inputs-outputs"),
        st.Page("pages/04_splits.py", title="Train, validation, test", icon=":material/call_split:", url_path="splits"),
        st.Page("pages/05_backprop.py", title="Backprop on a mini-batch", icon=":material/undo:", url_path="backprop"),
        st.Page("pages/06_learning_rate.py", title="SGD and the learning rate", icon=":material/speed:", url_path="learning-rate"),
        st.Page("pages/07_decay.py", title="Learning-rate decay", icon=":material/trending_down:", url_path="decay"),
        st.Page("pages/08_initialisation.py", title="Initialisation", icon=":material/grid_on:", url_path="initialisation"),
        st.Page("pages/09_gradients.py", title="Vanishing and exploding gradients", icon=":material/show_chart:", url_path="gradients"),
        st.Page("pages/10_batch_norm.py", title="Batch normalisation", icon=":material/equalizer:", url_path="batch-norm"),
        st.Page("pages/11_clipping.py", title="Gradient clipping", icon=":material/content_cut:", url_path="clipping"),
        st.Page("pages/12_optimizers.py", title="Faster optimizers", icon=":material/rocket_launch:", url_path="optimizers"),
        st.Page("pages/13_losses.py", title="Loss functions", icon=":material/functions:", url_path="losses"),
    ],
    "Practice": [
        st.Page("pages/14_practice.py", title="Practice", icon=":material/school:", url_path="practice"),
    ],
}

st.navigation(PAGES).run()

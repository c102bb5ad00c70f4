"""Model and activations: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Model and activations")
st.info("This page is being built.")

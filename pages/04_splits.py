"""Train, validation, test: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Train, validation, test")
st.info("This page is being built.")

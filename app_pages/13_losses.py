"""Loss functions: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Loss functions")
st.info("This page is being built.")

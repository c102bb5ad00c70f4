"""Faster optimizers: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Faster optimizers")
st.info("This page is being built.")

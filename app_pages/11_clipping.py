"""Gradient clipping: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Gradient clipping")
st.info("This page is being built.")

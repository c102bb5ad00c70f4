"""Inputs and outputs: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Inputs and outputs")
st.info("This page is being built.")

"""Batch normalisation: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Batch normalisation")
st.info("This page is being built.")

"""Backprop on a mini-batch: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Backprop on a mini-batch")
st.info("This page is being built.")

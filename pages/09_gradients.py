"""Vanishing and exploding gradients: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Vanishing and exploding gradients")
st.info("This page is being built.")

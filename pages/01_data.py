"""The data: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("The data")
st.info("This page is being built.")

"""Learning-rate decay: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("Learning-rate decay")
st.info("This page is being built.")

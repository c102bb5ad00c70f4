"""SGD and the learning rate: placeholder while the page is built (issue 4)."""

import streamlit as st

st.title("SGD and the learning rate")
st.info("This page is being built.")

"""Streamlit glue shared by the pages: cached data, training with live progress, code views.

`lab/` never imports Streamlit; this package is the only place where both meet,
so pages stay thin and the backend stays testable on its own.
"""

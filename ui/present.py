"""Presentation mode for a projector: large type, thick lines, fewer controls.

The toggle is kept in the URL (`?present=true`), so a lecturer can open the
app straight into it. Pages draw figures with `chart()` and put secondary
controls into `more_settings()`; both follow the toggle.
"""

from __future__ import annotations

import streamlit as st

from lab.plots import style_for_projector

PRESENT_KEY = "present"

_PROJECTOR_CSS = """
<style>
  html, [data-testid="stAppViewContainer"] { font-size: 20px; }
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.15rem; line-height: 1.5; }
  [data-testid="stWidgetLabel"] p { font-size: 1.05rem; font-weight: 600; }
  [data-testid="stMetricValue"] { font-size: 3rem; }
  h1 { font-size: 2.6rem !important; }
  [data-testid="stCaptionContainer"] { opacity: 1; }
  /* Streamlit pads the top by 6rem, which the large type makes 120 px of a 720 px projector. */
  [data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
</style>
"""


MODEBAR_CONFIG = {"displaylogo": False,
                  "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]}


def presenting() -> bool:
    """Whether presentation mode is on for this session.

    Returns:
        the toggle's value.
    """
    return bool(st.session_state.get(PRESENT_KEY, False))


def requested_in_link() -> bool:
    """Whether the page's link asks for presentation mode (`?present=true`), before any widget exists.

    Returns:
        True when the query parameter says so.
    """
    return str(st.query_params.get(PRESENT_KEY, "")).lower() == "true"


def sidebar_toggle() -> None:
    """The presentation-mode toggle, bound to the URL, and its style sheet when on."""
    st.sidebar.toggle(
        "Presentation mode", key=PRESENT_KEY, bind="query-params", persist_state="session",
        help="Large type, thick lines and only the controls that make the point, for a projector.",
    )
    if presenting():
        st.html(_PROJECTOR_CSS)


def chart(figure, container=None, projector_height=None, **kwargs):
    """Draw a Plotly figure, restyled for a projector in presentation mode.

    Args:
        figure: a plotly.graph_objects.Figure from lab.
        container: where to draw (a column, an st.empty slot...); the page by default.
        projector_height: the figure's height in pixels in presentation mode (Plotly's 450 by default).
        **kwargs: passed on to plotly_chart (e.g. key).
    Returns:
        what plotly_chart returns.
    """
    if presenting():
        figure = style_for_projector(figure)
        if projector_height:
            figure.update_layout(height=projector_height)
    # Plotly's toolbar, upright along the right edge and only the buttons a student uses: lying across
    # the top it covered the chart's title on a phone.
    figure.update_layout(modebar=dict(orientation="v"))
    kwargs["config"] = {**MODEBAR_CONFIG, **kwargs.get("config", {})}
    return (container or st).plotly_chart(figure, **kwargs)


def more_settings(label: str = "More settings"):
    """A container for controls that do not make the page's main point.

    Args:
        label: the expander's title.
    Returns:
        an expander, collapsed in presentation mode and open otherwise.
    """
    return st.expander(label, expanded=not presenting())

"""Presentation mode for a projector: large type, thick lines, fewer controls.

The toggle is kept in the URL (`?present=true`), so a lecturer can open the
app straight into it. Pages draw figures with `chart()`, put secondary
controls into `more_settings()` and formulas into `folded()`; all follow the toggle.
A page's result goes into a `ResultArea`: first under the title on a projector,
and scrolled into view after the button that made it (`reveal`), on every screen.
"""

from __future__ import annotations

import contextlib
import itertools

import streamlit as st

from lab.plots import style_for_projector

PRESENT_KEY = "present"

_PROJECTOR_CSS = """
<style>
  html, [data-testid="stAppViewContainer"] { font-size: 20px; }
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.15rem; line-height: 1.5; }
  [data-testid="stWidgetLabel"] p { font-size: 1.05rem; font-weight: 600; }
  h1 { font-size: 2.6rem !important; }
  [data-testid="stCaptionContainer"] { opacity: 1; }
  /* Streamlit pads the top by 6rem, which the large type makes 120 px of a 720 px projector. Its header
     bar, opaque and 75 px tall, would hide what starts above that, but it holds only the sidebar's and the
     menu's buttons, left and right of the content: see-through, it lets the page start at 30 px. */
  [data-testid="stMainBlockContainer"] { padding-top: 1.5rem; }
  [data-testid="stHeader"] { background: transparent; }
  /* A metric's label ends in an ellipsis when it is wider than its column ("Test accuracy after all ep..."):
     with the large type it wraps onto a second line instead, so the room reads the whole label. */
  [data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"],
  [data-testid="stMetricLabel"] p { white-space: normal; overflow: visible; text-overflow: clip; }
  /* The paragraph rule above also shrank a metric's value to 1.15rem inside a line box sized for 3rem:
     a small number in a tall tile. The value takes its box's size, and the tile only the room it needs. */
  [data-testid="stMetricValue"] { font-size: 2.4rem; }
  [data-testid="stMetricValue"] p { font-size: inherit; line-height: 1.15; }
  /* Tab titles at the body's size, and on a second row when they still do not fit, rather than scrolled
     out of sight behind the right edge ("Why does zero initialisation fa..."). */
  [data-testid="stTab"] p { font-size: 1rem; }
  [role="tablist"] { flex-wrap: wrap; }
</style>
"""
# Streamlit ends a page link's text and a sidebar entry's title in an ellipsis when they are wider than their
# room: "Slide: why the hidden layers need a non-linear acti..." on Home's presets on a phone or a projector, and
# "Vanishing and exploding gradie..." in the sidebar even on a laptop. They wrap onto a second line instead, so
# every link reads whole; a single line keeps its usual height. The third attribute outranks the projector's
# rule for paragraphs, so a wrapped title's lines stay close together there too.
_WHOLE_LINK_TEXT_CSS = """
<style>
  [data-testid="stSidebarNavLink"] > span:last-child, [data-testid="stPageLink-NavLink"] > span:last-child,
  [data-testid="stSidebarNavLink"] [data-testid="stMarkdownContainer"],
  [data-testid="stPageLink-NavLink"] [data-testid="stMarkdownContainer"],
  [data-testid="stSidebarNavLink"] [data-testid="stMarkdownContainer"] p,
  [data-testid="stPageLink-NavLink"] [data-testid="stMarkdownContainer"] p {
    white-space: normal; overflow: visible; text-overflow: clip; height: auto; line-height: 1.4;
  }
  [data-testid="stSidebarNavLink"], [data-testid="stPageLink-NavLink"] { height: auto; min-height: 1.75rem; }
</style>
"""
# Python that wraps its long lines (st.code(..., wrap_lines=True), e.g. Home's model on a phone) continues each
# one 8 columns in, further than its own start, so that the continuation cannot be mistaken for the next line.
# Streamlit writes the wrapping as the code element's inline style; each line of the code is one span in it.
_WRAPPED_CODE_CSS = """
<style>
  [data-testid="stCode"] code.language-python[style*="pre-wrap"] > span {
    display: block; padding-left: 8ch; text-indent: -8ch;
  }
</style>
"""
# On a phone Plotly's toolbar, upright along the chart's right edge, lay over long titles and legends once
# a tap showed it: at 390 px there is no room beside them. Its zoom, pan and download are desktop tools
# (a finger drags to zoom and a double tap resets the axes anyway), so on a narrow screen it goes;
# Streamlit's own full-screen button stays. Code is set a size smaller there, so that the lecture's model on
# Home keeps "sparse_categorical_crossentropy" on one line of a 390 px phone and wraps fewer lines.
_PHONE_CSS = """
<style>
  @media (max-width: 640px) {
    .js-plotly-plot .modebar-container { display: none !important; }
    [data-testid="stCode"] code { font-size: 0.75rem; }
  }
</style>
"""


# A result a button made lay below the fold on a laptop (the page's form fills the first screen), so a student
# saw nothing happen. The page scrolls the result's area up to just below Streamlit's header when the area's
# first chart is not wholly on screen, or, while the area has no chart yet, when the area starts in the lower
# half of the window. Plotly draws a moment after its element arrives, so the script waits for the chart
# (WAIT_FOR_CHART) up to 3 s, then goes by the area alone. The scroll is at once: a smooth glide could outlast
# a short run. On a phone it moves the page too: the columns stack there, so a result is furthest below its
# button, and the rule above leaves a page alone whose chart is already on screen.
REVEAL_SCRIPT = """<script>
(function reveal(waitForChart, tries) {
  const area = document.querySelector(".st-key-AREA_KEY");
  if (!area) return;
  const chart = area.querySelector(".js-plotly-plot");
  if (waitForChart && !chart && tries < 30) {
    setTimeout(() => reveal(waitForChart, tries + 1), 100);
    return;
  }
  const top = area.getBoundingClientRect().top;
  const box = chart && chart.getBoundingClientRect();
  const hidden = box ? box.top < 0 || box.bottom > window.innerHeight : top > window.innerHeight / 2;
  if (top >= 0 && !hidden) return;
  area.style.scrollMarginTop = "4.5rem";
  area.scrollIntoView({block: "start"});
})(WAIT_FOR_CHART, 0);
/* press PRESS */
</script>"""
# Each script's text is new, so a second press in a row runs it again: the browser keeps an html element
# whose text did not change, and with it the script that already ran.
_presses = itertools.count()


def reveal(area_key: str, wait_for_chart: bool = True, container=None) -> None:
    """Scroll the area keyed `area_key` into view (see REVEAL_SCRIPT); call it only on the run a press started.

    Args:
        area_key: the key of a container (st.container(key=...)) on the page.
        wait_for_chart: wait until Plotly has drawn the area's first chart before deciding.
        container: where the script's (empty) element goes; the current container by default.
    """
    script = (REVEAL_SCRIPT.replace("AREA_KEY", area_key).replace("WAIT_FOR_CHART", str(wait_for_chart).lower())
              .replace("PRESS", str(next(_presses))))
    (container or st).html(script, unsafe_allow_javascript=True)


class ResultArea:
    """Where a topic page draws its result: first under the title in presentation mode, scrolled to after a press.

    Create it where the result goes on a projector (under the title) and draw the result's head (its first
    chart and key numbers) inside `head(pressed)`; the rest of the result follows the `with` block where the
    page draws it. Outside presentation mode the head stays there too, as before; in presentation mode it is
    the first thing under the title, and the rest stays below the slide's knob.
    """

    def __init__(self, key: str):
        self.key = key
        self.first = st.container(key=key) if presenting() else None

    @contextlib.contextmanager
    def head(self, pressed: bool, with_chart: bool = True):
        """Draw the result's first chart and key numbers in here; after a press, they are scrolled into view.

        Args:
            pressed: whether this run follows the page's button (or a lecture preset), not a slider move.
            with_chart: whether the head has a Plotly chart to wait for (a head of numbers has none).
        """
        with self.first if self.first is not None else st.container(key=self.key):
            yield
            if pressed:
                reveal(self.key, wait_for_chart=with_chart)


def folded(label: str):
    """A container for formulas and secondary text: folded away in presentation mode, shown as they are otherwise.

    Args:
        label: the expander's title in presentation mode.
    Returns:
        a collapsed expander in presentation mode, else a plain container.
    """
    return st.expander(label, expanded=False) if presenting() else st.container()


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
    """The presentation-mode toggle, bound to the URL; the link, code and phone style sheets, and the projector's."""
    st.sidebar.toggle(
        "Presentation mode", key=PRESENT_KEY, bind="query-params", persist_state="session",
        help="Large type, thick lines and only the controls that make the point, for a projector.",
    )
    st.html(_WHOLE_LINK_TEXT_CSS + _WRAPPED_CODE_CSS + _PHONE_CSS + (_PROJECTOR_CSS if presenting() else ""))


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

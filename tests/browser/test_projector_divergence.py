"""Real browser, as a lecturer sees it: 1280x720, dark, presentation mode, learning rate 1.

After Train the diverged run's loss chart must be on screen without scrolling, its
per-step loss climbing from step 0 and the divergence step marked. Screenshots go
to screenshots/projector-*.png.

The README's three screenshots (the Training Lab in presentation mode, a divergence and
one topic page) are made here too, into docs/screenshots/, which git ignores:
`python -m pytest -m browser tests/browser/test_projector_divergence.py -k readme`.
"""

from __future__ import annotations

import re

import pytest

from devtools.local_server import ROOT
from lab.plots import REFERENCE_COLOR
from tests.browser.conftest import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

# Every Plotly chart's title, its per-step loss trace, its annotations and where it sits on the screen.
CHARTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
    const box = el.getBoundingClientRect();
    const perStep = (el.data || []).find(trace => String(trace.name || '').startsWith('per-step')) || {};
    return {title: String(((el.layout || {}).title || {}).text || '').replace(/<[^>]+>/g, ''),
            x: perStep.x || [], y: perStep.y || [], yType: ((el.layout || {}).yaxis || {}).type,
            annotations: ((el.layout || {}).annotations || []).map(a => a.text),
            top: box.top, bottom: box.bottom, left: box.left, right: box.right};
})"""


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 720}, "color_scheme": "dark"}


def test_a_diverged_run_shows_its_climbing_loss_on_the_first_screen(page, server_url):
    page.emulate_media(color_scheme="dark")
    open_page(page, server_url, "training-lab?present=true&lab_learning_rate=1")
    # The sidebar starts folded away, and the slide's knob is in sight above the folded settings.
    sidebar = page.get_by_test_id("stSidebar").bounding_box()
    assert sidebar["x"] + sidebar["width"] <= 0, sidebar  # folded off the left edge
    screenshot(page, "projector-open")
    knob = page.get_by_test_id("stSlider").filter(has_text="Learning rate").first
    knob.wait_for(state="visible", timeout=30_000)
    assert "1" in knob.inner_text()
    assert knob.bounding_box()["y"] + knob.bounding_box()["height"] <= 720
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("diverged at step", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    page.wait_for_timeout(500)
    screenshot(page, "projector-diverged")
    assert page.locator("[data-testid='stException']").count() == 0
    # Streamlit scrolls its main block, not the window: nothing may have scrolled it.
    assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop") == 0
    loss = next(chart for chart in page.evaluate(CHARTS) if chart["title"] == "Loss")
    assert 0 <= loss["top"] and loss["bottom"] <= 720 and loss["right"] <= 1280, loss
    assert loss["x"][0] == 0
    values = [value for value in loss["y"] if value is not None]
    assert len(values) >= 3 and max(values) > 10 * values[0]
    assert any(text.startswith("diverged at step") for text in loss["annotations"])
    # The key numbers are on the same screen.
    metric = page.locator("[data-testid='stMetric']").first
    assert "Test accuracy" in metric.inner_text() and metric.bounding_box()["y"] >= 0
    assert metric.bounding_box()["y"] + metric.bounding_box()["height"] <= 720


README_SCREENSHOTS = ROOT / "docs" / "screenshots"
# Per chart: its title, traces (name, width, colour, opacity, points) and the boxes of its legend and x axis title.
CHART_DETAILS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
    const box = node => { const b = node && node.getBoundingClientRect(); return b && {top: b.top, bottom: b.bottom}; };
    return {title: String(((el.layout || {}).title || {}).text || '').replace(/<[^>]+>/g, ''),
            traces: (el.data || []).map(t => ({name: String(t.name || ''), width: (t.line || {}).width,
                                               color: (t.line || {}).color, opacity: t.opacity,
                                               x: t.x || [], y: t.y || []})),
            annotations: ((el.layout || {}).annotations || []).map(a => a.text),
            legend: box(el.querySelector('g.legend')), xtitle: box(el.querySelector('text.xtitle')),
            top: el.getBoundingClientRect().top, bottom: el.getBoundingClientRect().bottom};
})"""
STEP_TEXT = re.compile(r"The batch loss (?:(?:rose|exploded) to (\S+)|became \S+) at step (\d+)")


def chart_titled(page, title: str) -> dict:
    return next(chart for chart in page.evaluate(CHART_DETAILS) if chart["title"] == title)


def assert_legend_below_axis_title(chart: dict) -> None:
    """Issue 10: on the projector the legend sat on top of the "epoch" axis title."""
    assert chart["legend"] and chart["xtitle"], chart["title"]
    assert chart["legend"]["top"] >= chart["xtitle"]["bottom"] - 1, (chart["title"], chart["legend"], chart["xtitle"])


def assert_text_is_on_the_line(text: str, chart: dict, line_name: str) -> int:
    """The divergence sentence names a step and a batch loss that the chart's line has, and its marker."""
    found = STEP_TEXT.search(text)
    assert found, text
    step = int(found.group(2))
    line = next(trace for trace in chart["traces"] if trace["name"] == line_name)
    assert line["x"][0] == 0 and line["x"][-1] == step, (line["x"][-5:], step)
    if found.group(1):
        assert f"{line['y'][-1]:.3g}" == found.group(1)
    assert f"diverged at step {step}" in chart["annotations"]
    return step


def readme_screenshot(page, name: str) -> None:
    README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(README_SCREENSHOTS / f"{name}.png"))  # the 1280x720 screen, as the room sees it


def test_readme_screenshots_of_the_lab_a_divergence_and_a_topic_page(page, server_url):
    page.emulate_media(color_scheme="dark")
    # 1. The Training Lab in presentation mode after a default run: curves and key numbers on the first screen.
    open_page(page, server_url, "training-lab?present=true&lab_seed=7")
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator("[data-testid='stMetric']").first.wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    page.wait_for_timeout(800)
    readme_screenshot(page, "training-lab-presentation")
    assert page.locator("[data-testid='stException']").count() == 0
    loss = chart_titled(page, "Loss")
    assert 0 <= loss["top"] and loss["bottom"] <= 720, loss
    running = next(trace for trace in loss["traces"] if trace["name"] == "running loss")
    assert running["width"] >= 4 and running["opacity"] in (None, 1)  # no longer faint on the dark theme
    assert_legend_below_axis_title(loss)
    assert_legend_below_axis_title(chart_titled(page, "Accuracy"))

    # 2. Learning rate 1: the loss climbs from step 0 and the text, the line and the marker name one step.
    open_page(page, server_url, "training-lab?present=true&lab_learning_rate=1&lab_seed=7")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("diverged at step", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    page.wait_for_timeout(800)
    readme_screenshot(page, "divergence")
    loss = chart_titled(page, "Loss")
    assert 0 <= loss["top"] and loss["bottom"] <= 720, loss
    advice = page.get_by_test_id("stAlert").filter(has_text="The batch loss").first.inner_text()
    assert_text_is_on_the_line(advice, loss, "per-step loss")

    # 3. A topic page: clipping rescues learning rate 1; its caption's step is the chart's marked step.
    open_page(page, server_url, "clipping?present=true")
    page.get_by_role("button", name="Train without and with clipping").click()
    page.wait_for_function("() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(el => "
                           "String(((el.layout || {}).title || {}).text || '').replace(/<[^>]+>/g, '')"
                           ".startsWith('Batch loss per step'))",
                           timeout=180_000)
    wait_idle(page, timeout=180_000)
    page.locator("[data-testid='stCaptionContainer']").filter(has_text="Without clipping:").first.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    readme_screenshot(page, "topic-clipping")
    caption = page.locator("[data-testid='stCaptionContainer']").filter(has_text="Without clipping:").first.inner_text()
    chart = next(chart for chart in page.evaluate(CHART_DETAILS) if chart["title"].startswith("Batch loss per step"))
    assert_text_is_on_the_line(caption, chart, "no clipping: batch loss")
    assert_legend_below_axis_title(chart)
    assert page.locator("[data-testid='stException']").count() == 0
    # The calculator's dashed original direction, the slide's point, in the reference grey on the dark theme.
    page.get_by_role("button", name="Clip", exact=True).click()
    wait_idle(page)
    arrows = chart_titled(page, "Clipped gradients (equal scale on both axes)")
    original = next(trace for trace in arrows["traces"] if trace["name"].startswith("direction of the original"))
    assert original["color"] == REFERENCE_COLOR and original["width"] >= 4
    # On a projector the rescue's result comes first on the page (ui.present.ResultArea): the arrows by their key.
    page.locator(".st-key-clip_arrows .js-plotly-plot").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, "projector-clipping-arrows")

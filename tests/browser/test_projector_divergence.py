"""Real browser, as a lecturer sees it: 1280x720, dark, presentation mode, learning rate 1.

After Train the diverged run's loss chart must be on screen without scrolling, its
per-step loss climbing from step 0 and the divergence step marked. Screenshots go
to screenshots/projector-*.png.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

# Every Plotly chart's title, its per-step loss trace, its annotations and where it sits on the screen.
CHARTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
    const box = el.getBoundingClientRect();
    const perStep = (el.data || []).find(trace => String(trace.name || '').endsWith('(per step)')) || {};
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

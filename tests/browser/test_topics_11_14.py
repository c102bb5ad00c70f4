"""Real browser: pages 11-14 open in Chromium, run their experiments, show no exception; a screenshot each."""

import pytest

from tests.browser.conftest import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

EXCEPTION = "[data-testid='stException']"
LONG = 180_000  # ms: a button that trains waits for the run, on a busy 2-core server


def tall_screenshot(page, name: str, width: int = 1280) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its main block, so grow the window to fit it first."""
    height = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": width, "height": min(int(height) + 100, 16_000)})
    page.wait_for_timeout(1_000)  # let the charts re-layout to the new size
    screenshot(page, name)


def press(page, name: str, until_text: str) -> None:
    """Press a button and wait until the text it produces appears and the script is idle."""
    page.get_by_role("button", name=name).click()
    page.get_by_text(until_text).first.wait_for(timeout=LONG)
    wait_idle(page, timeout=LONG)


def test_clipping_page(page, server_url):
    open_page(page, server_url, "clipping")
    assert page.get_by_role("heading", name="Gradient clipping").is_visible()
    assert page.get_by_text("[0.0099995, 0.99995]").first.is_visible()
    press(page, "Train without and with clipping", "Steps clipped")
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(".js-plotly-plot").count() == 3  # arrows, loss, gradient norms
    tall_screenshot(page, "topic-11-clipping")


def test_optimizers_page(page, server_url):
    open_page(page, server_url, "optimizers")
    assert page.get_by_role("heading", name="Faster optimizers").is_visible()
    press(page, "Run the optimizers", "The update equations with live values")
    press(page, "Start the race", "Race: training loss per step")
    press(page, "Train and watch the effective learning rate", "output layer's rate at the end")
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(".js-plotly-plot").count() == 6
    tall_screenshot(page, "topic-12-optimizers")


def test_losses_page(page, server_url):
    open_page(page, server_url, "losses")
    assert page.get_by_role("heading", name="Loss functions").is_visible()
    press(page, "Fit MSE and MAE", "MSE fit slope")
    press(page, "Train a small model and compare the losses", "Sparse and categorical cross-entropy are the same")
    press(page, "Train with the custom loss", "custom Huber fit")
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(".js-plotly-plot").count() == 5  # regression, two cross-entropy, entropy, custom
    tall_screenshot(page, "topic-13-losses")


def test_practice_page(page, server_url):
    open_page(page, server_url, "practice")
    assert page.get_by_role("heading", name="Practice").is_visible()
    page.get_by_role("button", name="Train and check").first.click()
    page.get_by_text("Not yet.").first.wait_for(timeout=LONG)  # the lecture's 0.01 does not diverge
    wait_idle(page, timeout=LONG)
    assert page.locator(EXCEPTION).count() == 0
    assert page.get_by_text("0 of 4 exercises passed this session").is_visible()
    tall_screenshot(page, "topic-14-practice")


def test_clipping_calculator_on_a_phone(page, server_url):
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server_url, "clipping")
    assert page.locator(EXCEPTION).count() == 0
    page.get_by_role("heading", name="1. The clipping calculator").scroll_into_view_if_needed()
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)  # the arrows; Plotly loads lazily
    assert page.locator(".js-plotly-plot").count() == 1
    tall_screenshot(page, "topic-11-clipping-phone", width=390)

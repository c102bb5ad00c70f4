"""Real browser: topic pages 6-10 open, run their default experiment, draw their charts, and are screenshotted."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_key_columns_first_on_a_phone, assert_tables_fit, open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

EXCEPTION = "[data-testid='stException']"
RUN_TIMEOUT = 180_000  # ms: TensorFlow's first import plus a few small trainings on a shared server


def click_and_wait(page, button: str, appears: str, count: int = 1) -> None:
    """Press a button and wait until at least `count` elements matching `appears` exist and the script is idle."""
    page.get_by_role("button", name=button).click()
    page.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length >= count",
        arg=[appears, count], timeout=RUN_TIMEOUT,
    )
    wait_idle(page, timeout=RUN_TIMEOUT)
    assert page.locator(EXCEPTION).count() == 0


def whole_page_screenshot(page, name: str) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its main section, so grow the window to fit it first."""
    size = page.viewport_size
    height = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 12_000)})
    page.wait_for_timeout(700)  # Plotly redraws its charts after a resize
    screenshot(page, name)
    page.set_viewport_size(size)


def open_topic(page, server_url, path: str, heading: str) -> None:
    open_page(page, server_url, path)
    # A deep link opens its page directly: no "Page not found" dialog (the reason pages live in app_pages/).
    assert page.get_by_role("dialog").filter(has_text="Page not found").count() == 0
    assert page.get_by_role("heading", name=heading).first.is_visible()
    assert page.locator(EXCEPTION).count() == 0


def test_learning_rate_page(page, server_url):
    open_topic(page, server_url, "learning-rate", "SGD and the learning rate")
    assert "63 steps" in page.locator("[data-testid='stAlert']").first.inner_text()
    click_and_wait(page, "Train these learning rates", "[data-testid='stDataFrame']")
    assert_tables_fit(page, count=1)
    screenshot(page, "tables-learning-rate")
    click_and_wait(page, "Run the range test", "[data-testid='stMetric']", count=3)
    assert page.locator(".js-plotly-plot").count() == 2
    assert "diverged" in page.locator(".js-plotly-plot").first.inner_text()
    whole_page_screenshot(page, "topic-06-learning-rate")
    assert_key_columns_first_on_a_phone(page, [["lr", "verdict", "last loss", "val. acc."]])


def test_decay_page(page, server_url):
    open_topic(page, server_url, "decay", "Learning-rate decay")
    # The schedule draws before any training; Plotly loads its code on first use, so wait for the chart.
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    assert "ignored in Keras 3" in page.get_by_text("is ignored in Keras 3").first.inner_text()
    click_and_wait(page, "Train with and without decay", ".js-plotly-plot", count=3)
    whole_page_screenshot(page, "topic-07-decay")


def test_initialisation_page(page, server_url):
    open_topic(page, server_url, "initialisation", "Initialisation")
    click_and_wait(page, "Train each initialisation", ".js-plotly-plot", count=3)
    assert "1 distinct neuron(s)" in page.locator("[data-testid='stAlert']").last.inner_text()
    whole_page_screenshot(page, "topic-08-initialisation")


def test_gradients_page(page, server_url):
    open_topic(page, server_url, "gradients", "Vanishing and exploding gradients")
    click_and_wait(page, "Measure and train", ".js-plotly-plot", count=2)
    assert "times smaller" in page.locator("[data-testid='stAlert']").last.inner_text()
    assert_tables_fit(page, count=1)
    screenshot(page, "tables-gradients")
    whole_page_screenshot(page, "topic-09-gradients")
    # The same results on a phone: the key columns come first, and the charts stack and stay inside the screen.
    assert_key_columns_first_on_a_phone(page, [["run", "hidden_1 / output", "test acc."]])
    width = page.evaluate("document.querySelector('.js-plotly-plot').getBoundingClientRect().width")
    assert 0 < width <= 390
    whole_page_screenshot(page, "topic-09-gradients-phone")


def test_batch_norm_page(page, server_url):
    open_topic(page, server_url, "batch-norm", "Batch normalisation")
    click_and_wait(page, "Train and time the models", ".js-plotly-plot", count=2)
    click_and_wait(page, "Train and read the statistics", "[data-testid='stMetric']", count=3)
    # Accuracy and seconds per epoch, the moving statistics, and the learned γ and β.
    assert page.locator(".js-plotly-plot").count() == 4
    page.get_by_role("heading", name="γ and β are learned").wait_for()
    assert_tables_fit(page, count=3)  # the placements, and the statistics split into means and variances
    screenshot(page, "tables-batch-norm")
    whole_page_screenshot(page, "topic-10-batch-norm")
    # On a phone the two statistics tables stack, and each still fits (the placement table scrolls, its model
    # column pinned).
    page.set_viewport_size({"width": 390, "height": 844})
    wait_idle(page)
    assert_tables_fit(page, count=3, width=390, skip=1)

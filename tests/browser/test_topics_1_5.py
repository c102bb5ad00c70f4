"""Real browser: topic pages 1-5 open in Chromium without an exception, run their experiment, and are screenshotted.

Each page is opened by its address, as a shared link opens it (the sidebar's links to these addresses
are checked in tests/browser/test_foundation.py, and the Training Lab's tests arrive through the sidebar).
The cheap experiments (pages 1, 3, 4 and 5) are also run, so that their screenshots show results; page 2's
experiment takes longer and is covered by AppTest and the backend tests. Screenshots are taken with the
viewport as tall as the page, because Streamlit scrolls inside its own container.
"""

import pytest

from tests.browser.conftest import assert_key_columns_first_on_a_phone, assert_tables_fit, open_page, screenshot, wait_idle
from ui.catalog import PAGES

pytestmark = pytest.mark.browser

NO_EXCEPTION = "[data-testid='stException']"


def open_topic(page, server_url: str, title: str) -> None:
    """Open the topic by its address and wait for the page's script."""
    path = next(spec.url_path for spec in PAGES if spec.title == title)
    open_page(page, server_url, path)
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    wait_idle(page)
    assert page.locator(NO_EXCEPTION).count() == 0


def tall_screenshot(page, name: str, charts: int) -> None:
    """Grow the viewport to the page's full height, wait for `charts` Plotly charts, save the screenshot."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 50, 16_000)})
    # Charts below the fold render once visible; the tall viewport shows them all.
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {charts}", timeout=30_000)
    page.wait_for_timeout(1_000)  # let Plotly redraw at the new size
    screenshot(page, name)


def run_experiment(page, button: str) -> None:
    """Press a page's experiment button and wait for its "What to notice" box."""
    page.get_by_role("button", name=button).click()
    page.get_by_text("What to notice").first.wait_for(timeout=180_000)
    wait_idle(page, timeout=180_000)


def test_data_page(page, server_url):
    open_topic(page, server_url, "The data")
    assert page.locator("[data-testid='stMetricValue']").first.inner_text() == "60,000"
    run_experiment(page, "Train on both datasets")
    assert page.locator(NO_EXCEPTION).count() == 0
    tall_screenshot(page, "topic-01-data", charts=3)


def test_model_page(page, server_url):
    open_topic(page, server_url, "Model and activations")
    assert page.get_by_text("266,610").first.is_visible()
    assert page.get_by_role("button", name="Train the three models").is_visible()
    assert page.locator(NO_EXCEPTION).count() == 0
    tall_screenshot(page, "topic-02-model", charts=0)  # nothing is drawn before the experiment


def test_inputs_outputs_page(page, server_url):
    open_topic(page, server_url, "Inputs and outputs")
    page.get_by_role("radiogroup").get_by_text("box", exact=True).click()
    page.get_by_role("button", name="Train the box model").wait_for()
    wait_idle(page)
    run_experiment(page, "Train the box model")
    assert page.locator(NO_EXCEPTION).count() == 0
    # The slides' house-price example, below the experiment: made-up rows, labelled so, and the two heads.
    house_header = page.get_by_role("heading", name="The slides' example: predicting a house's price")
    house_header.scroll_into_view_if_needed()
    assert house_header.is_visible()
    assert page.get_by_text("are made up to show the shapes").is_visible()
    assert page.get_by_text("house price (regression)").first.is_visible()
    tall_screenshot(page, "topic-03-inputs-outputs", charts=2)  # the predictions and the loss curves


def test_splits_page(page, server_url):
    open_topic(page, server_url, "Train, validation, test")
    assert page.get_by_text("No image position is in both").is_visible()
    run_experiment(page, "Train with and without early stopping")
    assert page.locator(NO_EXCEPTION).count() == 0
    assert page.get_by_text("Keras's own EarlyStopping").first.is_visible()
    # At the defaults the measured outcomes are the declared claims, listed where a student reads them.
    claim = page.get_by_text("Patience 1 is fooled by noise")
    claim.scroll_into_view_if_needed()
    assert claim.is_visible()
    tall_screenshot(page, "topic-04-splits", charts=5)  # sizes, balance, two curves, patience


def test_backprop_page(page, server_url):
    open_topic(page, server_url, "Backprop on a mini-batch")
    run_experiment(page, "Run one step")
    assert page.locator(NO_EXCEPTION).count() == 0
    assert page.get_by_text("the step lowered this batch's loss").is_visible()
    assert_tables_fit(page, count=2)  # the forward and the backward pass, split so that each fits
    screenshot(page, "tables-backprop")
    tall_screenshot(page, "topic-05-backprop", charts=4)  # activations, gradients, losses, sweep
    assert_key_columns_first_on_a_phone(page, [["layer", "share of zeros", "mean activation"], ["layer", "‖dL/dW‖"]])

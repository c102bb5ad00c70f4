"""Real browser: Home and the Training Lab against `streamlit run`."""

import pytest

from tests.browser.conftest import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser


def test_home_renders_without_errors(page, server_url):
    open_page(page, server_url)
    assert page.get_by_role("heading", name="Optimisation Lab").is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "home")


def test_training_lab_trains_and_draws_curves(page, server_url):
    open_page(page, server_url)
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Training Lab").click()
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_selector("[data-testid='stMetric']", timeout=120_000)
    wait_idle(page, timeout=120_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".js-plotly-plot").count() >= 2
    assert "Test accuracy" in page.locator("[data-testid='stMetric']").first.inner_text()
    screenshot(page, "training-lab-trained")

"""Real browser: Home against `streamlit run`.

The Training Lab, reached from Home through the sidebar and trained, is tests/browser/test_training_lab.py's
first test; the default run in presentation mode is tests/browser/test_projector_divergence.py's.
"""

import pytest

from tests.browser.conftest import open_page, screenshot

pytestmark = pytest.mark.browser


def test_home_renders_without_errors(page, server_url):
    open_page(page, server_url)
    assert page.get_by_role("heading", name="Optimisation Lab").is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "home")

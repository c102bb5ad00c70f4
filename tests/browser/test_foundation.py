"""Real browser: Home against `streamlit run`, and its sidebar's link to every page.

The Training Lab, reached from Home through the sidebar and trained, is tests/browser/test_training_lab.py's
first test; the default run in presentation mode is tests/browser/test_projector_divergence.py's.
"""

import pytest

from lab.preset_lists import all_presets
from tests.browser.conftest import MAIN_LINKS, NAV_LINKS, PHONE, assert_whole, open_page, screenshot
from ui.catalog import PAGES

pytestmark = pytest.mark.browser


def test_home_renders_and_its_sidebar_links_every_page_to_its_address(page, server_url):
    open_page(page, server_url)
    assert page.get_by_role("heading", name="Optimisation Lab").is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "home")
    # The topic tests open their pages by these addresses; here is a student's way there, the sidebar's links
    # (each link's text is its icon's name, then its title).
    links = page.get_by_test_id("stSidebarNavItems").get_by_role("link")
    addresses = {links.nth(index).inner_text().strip().splitlines()[-1]: links.nth(index).get_attribute("href")
                 for index in range(links.count())}
    for spec in PAGES:
        assert addresses.get(spec.title, "").rstrip("/") == f"{server_url}/{spec.url_path}".rstrip("/"), (
            spec.title, addresses)
    # Issue 10: every sidebar title reads whole on a laptop ("Vanishing and exploding gradie..." was cut there).
    assert_whole(page, NAV_LINKS, len(PAGES), "1280x900 laptop, sidebar")
    # On a phone the preset links wrap instead of ending in "..." ("Slide: why the hidden layers need a non-linear
    # acti...").
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    assert_whole(page, MAIN_LINKS, len(all_presets()), "390x844 phone, Home")

"""Real browser: Home against `streamlit run`, and its sidebar's link to every page.

The Training Lab, reached from Home through the sidebar and trained, is tests/browser/test_training_lab.py's
first test; the default run in presentation mode is tests/browser/test_projector_divergence.py's.
"""

import pytest

from lab.preset_lists import all_presets
from tests.browser.conftest import MAIN_CODE, MAIN_LINKS, NAV_LINKS, PHONE, assert_whole, open_home, screenshot
from ui.catalog import PAGES

pytestmark = pytest.mark.browser


def test_home_renders_and_its_sidebar_links_every_page_to_its_address(page, server_url):
    open_home(page, server_url)
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
    # acti..."), and the lecture's model reads without a sideways scroll inside its code block.
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    assert_whole(page, MAIN_LINKS, len(all_presets()), "390x844 phone, Home")
    assert_whole(page, MAIN_CODE, 1, "390x844 phone, Home")
    # The loss's name, the longest word of the code, is on one line (a wrap would cut it in two).
    loss = page.locator(MAIN_CODE).locator(".token.string").filter(has_text="sparse_categorical_crossentropy")
    assert loss.evaluate("el => el.getClientRects().length") == 1
    # A line too long for the phone goes on further in than its own first word, not back at the margin, where it
    # would read as the next line of Python.
    lines = page.locator(f"{MAIN_CODE} code").evaluate(WRAPPED_LINES)
    wrapped = [line for line in lines if line["rows"]]
    assert wrapped, lines  # the layers' lines do not fit 390 px
    for line in wrapped:
        assert min(line["rows"]) > line["start"] + 1, line


# Per line of a code block: its text, where its first word starts, and where each further row it wraps onto starts.
WRAPPED_LINES = """code => [...code.querySelectorAll(':scope > span')].map(line => {
    const text = line.textContent;
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    let start = null;
    for (let node = walker.nextNode(); node && start === null; node = walker.nextNode()) {
        const at = node.data.search(/\\S/);
        if (at >= 0) {
            const glyph = document.createRange();
            glyph.setStart(node, at);
            glyph.setEnd(node, at + 1);
            start = glyph.getBoundingClientRect();
        }
    }
    const whole = document.createRange();
    whole.selectNodeContents(line);
    const rows = [...whole.getClientRects()].filter(rect => rect.width > 0 && rect.top > start.bottom - 2)
        .map(rect => rect.left);
    return {text: text.trim(), start: start.left, rows};
})"""

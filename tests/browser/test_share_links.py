"""Real browser: settings travel in the URL, presentation mode renders, the Share popover has a QR code."""

import pytest
from playwright.sync_api import expect

from lab.preset_lists import all_presets
from tests.browser.conftest import (
    MAIN_CODE, MAIN_LINKS, NAV_LINKS, assert_whole, open_home, open_page, open_sidebar, screenshot, start_server,
    stop_server, wait_idle,
)
from ui.catalog import PAGES

pytestmark = pytest.mark.browser


def test_presentation_mode_from_a_link_and_back(page, server_url):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.emulate_media(color_scheme="dark")
    open_home(page, server_url, "?present=true")
    assert page.get_by_role("switch", name="Presentation mode").is_checked()
    size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert size == "20px"
    screenshot(page, "shell-presentation-home")
    # Issue 10: in the projector's large type Home's preset links wrap instead of ending in "...".
    assert_whole(page, MAIN_LINKS, len(all_presets()), "1280x720 projector, Home")
    open_sidebar(page)  # a projector link folds it away
    page.wait_for_timeout(300)  # the sidebar has slid open
    # Every sidebar title reads whole too ("SGD and the lea..." and eight others were cut), and in the narrower
    # page beside it so do the preset links and every line of the lecture's model (its compile call was hidden
    # behind a sideways scroll).
    assert_whole(page, NAV_LINKS, len(PAGES), "1280x720 projector, sidebar")
    assert_whole(page, MAIN_LINKS, len(all_presets()), "1280x720 projector beside the sidebar, Home")
    assert_whole(page, MAIN_CODE, 1, "1280x720 projector beside the sidebar, Home")
    page.get_by_text("Presentation mode").click()
    wait_idle(page)
    assert "present=" not in page.url


def test_tampered_link_gets_a_notice(page, server_url):
    open_page(page, server_url, "?zzz=1")
    assert "could not be used" in page.locator("[data-testid='stAlert']").first.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    assert "zzz" not in page.url


def test_share_popover_shows_the_link_and_a_qr_code(page, server_url):
    open_page(page, server_url, "?present=true")
    open_sidebar(page)  # a projector link folds it away
    page.get_by_role("button", name="Share this experiment").click()
    popover = page.locator("[data-testid='stPopoverBody']")
    # The popover's elements arrive one after another, so wait for each instead of reading at once.
    link = popover.locator("[data-testid='stCode']")
    expect(link).to_contain_text("127.0.0.1")
    assert "present=" not in link.inner_text()
    expect(popover.locator("img")).to_have_count(1)
    # A QR code of 127.0.0.1 would send a phone to itself: the popover says so.
    expect(popover.get_by_test_id("stAlert")).to_contain_text("points at this computer")
    screenshot(page, "shell-share-popover")


def test_deep_links_are_the_first_visits_of_a_fresh_server(page, data_dir):
    # The link a lecturer shares is often the first page anyone opens after the server wakes up;
    # Streamlit's old pages/ folder mode answered that visit with "Page not found".
    # Both links open at the same moment on one fresh server, before it has run any page: each is
    # a first visit, the Training Lab's and a topic page's, for the price of one server.
    process, url = start_server()
    topic = page.context.new_page()
    try:
        links = ((page, "training-lab", "Training Lab"), (topic, "clipping", "Gradient clipping"))
        for each, path, _ in links:
            each.goto(f"{url}/{path}", wait_until="commit")
        for each, _, heading in links:
            expect(each.get_by_role("heading", name=heading).first).to_be_visible(timeout=60_000)
            assert each.get_by_role("dialog").filter(has_text="Page not found").count() == 0
    finally:
        topic.close()
        stop_server(process, grace_seconds=30)


LOSS_WITH_POINTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(el =>
    String(((el.layout || {}).title || {}).text || '').replace(/<[^>]+>/g, '') === 'Loss'
    && (el.data || []).some(trace => trace.x && (trace.x.length > 0 || trace.x.bdata)))"""


def test_a_shared_lab_link_of_a_trained_configuration_shows_its_result_without_pressing_train(page, server_url):
    link = "training-lab?lab_train_size=1000&lab_validation_size=1000&lab_epochs=2&lab_seed=4711&lab_learning_rate=0.03"
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server_url, link)
    # Nobody has trained it yet: the link restores the form and waits for Train.
    expect(page.get_by_text("Press Train to train the model")).to_be_visible()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Runs in this session")).to_be_visible(timeout=60_000)
    wait_idle(page)

    student = page.context.browser.new_page(viewport={"width": 1280, "height": 720}, color_scheme="dark")
    try:
        open_page(student, server_url, link)
        # The student's page shows the finished run at once, and nothing was pressed.
        expect(student.get_by_text("Served instantly")).to_be_visible()
        expect(student.get_by_text("Runs in this session (1 of")).to_be_visible()
        student.wait_for_function(LOSS_WITH_POINTS, timeout=30_000)
        assert student.get_by_text("Press Train to train the model").count() == 0
        assert student.get_by_text("Epoch 1/2").count() == 0  # no live panel: it did not train
        screenshot(student, "share-link-cached-lab")
    finally:
        student.close()

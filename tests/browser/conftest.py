"""Real-browser fixtures: a `streamlit run` server on a free loopback port and Debian's Chromium.

The server and browser helpers live in devtools.local_server, which the benchmarks
import too. Screenshots go to screenshots/, which git ignores.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from devtools.local_server import (  # noqa: F401  (re-exported for the browser tests)
    CHROMIUM, CHROMIUM_ARGS, IDLE, ROOT, SCREENSHOTS, free_port, start_server, stop_server,
)
from lab.admission import STATS_FILE_ENV


@pytest.fixture(scope="session")
def app_server(data_dir, tmp_path_factory):
    """The session's one `streamlit run` server: (process, url, stats file).

    It writes its training counters to the stats file (lab.admission), so the class-load
    test can count trainings on it instead of starting a server of its own.
    """
    SCREENSHOTS.mkdir(exist_ok=True)
    stats_file = tmp_path_factory.mktemp("server") / "stats.json"
    process, url = start_server(env={STATS_FILE_ENV: str(stats_file)})
    yield process, url, stats_file
    stop_server(process)


@pytest.fixture(scope="session")
def server_url(app_server):
    return app_server[1]


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


# Where the app's pages may fetch from: this machine, and the data: and blob: URLs the page makes itself.
LOCAL_HOSTS = {"127.0.0.1", "localhost", "data", "blob"}


@pytest.fixture(autouse=True)
def no_request_leaves_the_machine(request):
    """Every browser test also checks that its pages fetch nothing from the internet or a CDN (offline use).

    Each page a test opens in its browser context is recorded, so the pages that every test opens, trains
    and switches tabs on are all covered, without opening them again for this check alone.
    """
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    hosts = set()

    def record(sent) -> None:
        hosts.add(urlsplit(sent.url).hostname or urlsplit(sent.url).scheme)

    page.context.on("request", record)
    yield
    page.context.remove_listener("request", record)  # the context outlives the test (see `page`)
    assert hosts <= LOCAL_HOSTS, f"requests left the machine: {hosts - LOCAL_HOSTS}"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def _shared_context(browser):
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def page(_shared_context, browser_context_args):
    """One browser tab for all the tests, reset to the test's viewport and colour scheme, its storage cleared.

    Measured here: the first load of a page in a new tab cost Chromium 4-6 s of CPU, and in a tab that had
    loaded the app before 2.3-3 s (its renderer and compiled scripts are warm). Chromium was a third of the
    full test tier's CPU, most of it such loads. Every test starts with a fresh load of its page; what else
    would carry over is cleared after it: the tabs it opened, and the local and session
    storage (Streamlit keeps the sidebar's folded state and the theme there), for the server the test ended
    on, which is the only one for nearly every test. Leaving the page ends its
    Streamlit session (and any training in it), as closing the tab did.
    """
    tab = _shared_context.pages[0] if _shared_context.pages else _shared_context.new_page()
    tab.set_viewport_size(browser_context_args["viewport"])
    tab.emulate_media(color_scheme=browser_context_args.get("color_scheme", "light"))
    yield tab
    for extra in _shared_context.pages[1:]:  # the tabs the test opened itself
        extra.close()
    if tab.is_closed():
        return
    try:  # the storage of the server the test ended on, without loading anything (its server may be gone)
        tab.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
    except PlaywrightError:
        pass  # not a page with storage (about:blank), or one still navigating
    tab.goto("about:blank")


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until the script has finished its run (Streamlit's own state attribute)."""
    page.wait_for_selector(IDLE, timeout=timeout)


def open_page(page, url: str, path: str = "") -> None:
    """Open an app page by URL path and wait for its script to finish."""
    page.goto(f"{url}/{path}")
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    wait_idle(page)


def open_home(page, url: str, query: str = "") -> None:
    """Open Home and wait for its last line, so that everything before it, the app's style sheets too, is drawn.

    The script's idle state alone can be seen before a new page's first run has begun.
    """
    open_page(page, url, query)
    page.get_by_text("Data: Fashion-MNIST by Zalando Research").wait_for(timeout=60_000)
    wait_for_lazy_elements(page)


# Streamlit loads the code of most elements (page links, code blocks, tables...) on first use and shows a grey
# placeholder until it has: in one CI run Home's last line was on screen while its 26 page links and its code
# block were still placeholders.
LAZY_PLACEHOLDERS = """() => !document.querySelector("[data-testid='stMain'] [data-testid='stSkeleton']")"""


def wait_for_lazy_elements(page, timeout: float = 30_000) -> None:
    """Wait until no element of the main area is a placeholder for code the browser is still loading."""
    page.wait_for_function(LAZY_PLACEHOLDERS, timeout=timeout, polling=100)


def open_sidebar(page) -> None:
    """Unfold the sidebar when it is folded (a ?present=true link opens with it folded)."""
    expand = page.get_by_test_id("stExpandSidebarButton")
    if expand.count() and expand.is_visible():
        expand.click()
        page.get_by_test_id("stSidebar").get_by_text("Presentation mode").wait_for(timeout=10_000)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under screenshots/ and return its path."""
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Per result table (a Streamlit data grid): how much wider its content is than the visible grid, and its right edge.
TABLE_WIDTHS = """() => [...document.querySelectorAll("[data-testid='stDataFrame']")].map(frame => {
    const scroller = frame.querySelector('.dvn-scroller');
    return {hidden: scroller.scrollWidth - scroller.clientWidth, right: frame.getBoundingClientRect().right,
            text: frame.innerText.slice(0, 40)};
})"""
TABLES_DRAWN = """(count) => [...document.querySelectorAll("[data-testid='stDataFrame']")]
    .filter(frame => frame.querySelector('.dvn-scroller')).length >= count"""


def assert_tables_fit(page, count: int, width: int = 1280, skip: int = 0) -> None:
    """Issue 10: every column of the page's result tables is on screen, with nothing to scroll sideways.

    A table wider than its page hides its right-hand columns behind a sideways scroll, which a student
    does not notice.

    Args:
        page: a page whose `count` tables have been drawn.
        count: how many tables the page shows.
        width: the window's width; each table's right edge must be inside it.
        skip: how many of the first tables not to check (one that scrolls on purpose, its label column pinned).
    """
    page.wait_for_function(TABLES_DRAWN, arg=count, timeout=30_000)
    page.wait_for_timeout(500)  # the grid sizes its columns once it has drawn
    tables = page.evaluate(TABLE_WIDTHS)
    assert len(tables) == count, tables
    for table in tables[skip:]:
        assert table["hidden"] <= 0, f"{table['hidden']} px of the table {table['text']!r} need scrolling"
        assert table["right"] <= width, table


# Per result table: the headers its grid draws, in column order, and how much of it needs a sideways scroll. The grid
# draws only the columns in its view (and lists their headers, with aria-colindex, for screen readers), so the headers
# it lists are what a student sees without scrolling.
DRAWN_HEADERS = """() => [...document.querySelectorAll("[data-testid='stDataFrame']")].map(frame => {
    const scroller = frame.querySelector('.dvn-scroller');
    const headers = [...frame.querySelectorAll('[role=columnheader]')]
        .sort((a, b) => Number(a.getAttribute('aria-colindex')) - Number(b.getAttribute('aria-colindex')));
    return {headers: headers.map(header => header.innerText.trim()), hidden: scroller.scrollWidth - scroller.clientWidth};
})"""
PHONE = {"width": 390, "height": 844}


def assert_key_columns_first_on_a_phone(page, wanted: list[list[str]]) -> None:
    """Issue 10: on a 390-wide phone, where a table cannot fit, its slide's numbers come right after the pinned label.

    Args:
        page: a page whose result tables have been drawn; it is left at the phone's size.
        wanted: per table, in page order, the headers a phone must show without scrolling, the pinned label first.
    """
    page.set_viewport_size(PHONE)
    wait_idle(page)
    page.wait_for_timeout(700)  # the grid redraws its columns for the new width
    tables = page.evaluate(DRAWN_HEADERS)
    assert len(tables) >= len(wanted), tables
    for table, headers in zip(tables, wanted):
        drawn = table["headers"]
        # The last drawn column may be cut by the edge of the screen: a key column must come before it.
        whole = drawn if table["hidden"] <= 0 else drawn[:-1]
        assert drawn[:len(headers)] == headers and set(headers) <= set(whole), table


# Per element under a CSS selector that the browser draws: its text, when its content is wider than its box.
# Streamlit ends such a link or sidebar title in "..." and gives such a code block a sideways scroll, and
# a person sees neither the end of the text nor that there is one.
CUT_BOXES = """(selector) => [...document.querySelectorAll(selector)]
    .filter(el => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
    .map(el => el.innerText.trim().replace(/\\s+/g, ' ').slice(0, 80))"""
MAIN_LINKS = "[data-testid='stMain'] [data-testid='stPageLink-NavLink']"
NAV_LINKS = "[data-testid='stSidebarNavLink']"
MAIN_CODE = "[data-testid='stMain'] [data-testid='stCode']"


def assert_whole(page, selector: str, at_least: int, where: str) -> None:
    """Issue 10: every element the selector finds reads whole, with nothing cut off at its right end.

    Args:
        page: a page that has drawn them.
        selector: the elements (links, sidebar entries, code blocks); each and all of its descendants are checked.
        at_least: how many of them there must be, so that an empty page cannot pass.
        where: the screen, for the message (e.g. "1280x720 projector").
    """
    wait_for_lazy_elements(page)
    assert page.locator(selector).count() >= at_least, (selector, where)
    cut = page.evaluate(CUT_BOXES, f"{selector}, {selector} *")
    assert cut == [], f"{where}: cut short: {sorted(set(cut))}"

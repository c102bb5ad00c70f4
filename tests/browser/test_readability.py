"""Real browser: what only a browser shows of the readability fixes.

Streamlit's grid draws the word "None" in a missing cell whatever a pandas Styler's na_rep says (tests/test_readability.py
checks the table's cells; this checks the grid). A run that diverges before its first epoch ends has no validation
accuracy: the Compare tab now shows an em dash there. The grid draws on a canvas and lists its cells for screen
readers; that list gave an empty text for the missing cell (drawn as None) and now gives the dash.
"""

import pytest

from tests.browser.conftest import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

COMPARE = "[data-testid='stDataFrame']"  # the Compare tab's table, the only grid of the Training Lab


def test_the_compare_tab_shows_a_dash_not_none_for_a_diverged_runs_accuracy(page, server_url):
    # Learning rate 1 diverges within a few steps: a run of a few seconds.
    open_page(page, server_url, "training-lab?lab_learning_rate=1&lab_seed=5")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("diverged at step", exact=False).first.wait_for(timeout=120_000)
    page.locator(COMPARE).last.wait_for(timeout=60_000)
    wait_idle(page, timeout=60_000)
    # Read in one step once the diverged run's row is there: the one rerun that follows every training may
    # replace the grid between a wait and a later read (two CI runs read an empty or detached grid).
    cells = page.wait_for_function(f"""() => {{
        const cells = [...document.querySelectorAll("{COMPARE} [role=gridcell]")].map(cell => cell.innerText.trim());
        return cells.length > 3 && cells.includes('diverged') ? cells : false;
    }}""", timeout=30_000).json_value()
    assert "diverged" in cells and "\u2014" in cells, cells
    assert "" not in cells and "None" not in cells and "nan" not in cells, cells
    screenshot(page, "compare-diverged")  # the page, not the grid element, which that rerun may replace

"""Real browser: pages 11-14 open in Chromium and run their experiments; what issue 10 asks of them; a screenshot each."""

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
    # The calculator, drawn before any training, on a phone first; then the experiment on a laptop.
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server_url, "clipping")
    assert page.locator(EXCEPTION).count() == 0
    page.get_by_role("heading", name="1. The clipping calculator").scroll_into_view_if_needed()
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)  # the arrows; Plotly loads lazily
    assert page.locator(".js-plotly-plot").count() == 1
    tall_screenshot(page, "topic-11-clipping-phone", width=390)

    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.get_by_role("heading", name="Gradient clipping").is_visible()
    assert page.get_by_text("[0.0099995, 0.99995]").first.is_visible()
    press(page, "Train without and with clipping", "Steps clipped")
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(".js-plotly-plot").count() == 3  # arrows, loss, gradient norms
    tall_screenshot(page, "topic-11-clipping")


# Three racers on 1,000 images for 2 epochs, and AdaGrad for 1 epoch: the page's claims about the default race
# and AdaGrad are trained in tests/lab/test_claims.py; here the point is what the page draws.
OPTIMIZERS_LINK = ("optimizers?opt_race_optimizers=sgd&opt_race_optimizers=momentum&opt_race_optimizers=adam"
                   "&opt_race_train_size=1000&opt_race_epochs=2&opt_adagrad_epochs=1")
RACERS = ("SGD", "Momentum", "Adam")
# Records every state of the race's charts as the page shows them, from before the press to the end: a
# MutationObserver sees each change of the page, so no state is missed between two polls, however short.
# A curve counts when Plotly has drawn its line (a lone curve has no legend, so its name is read from the chart).
WATCH_THE_RACE = """() => {
    window.raceStates = [];
    const note = () => {
        const partial = document.querySelector("[class*='st-key-opt_race_partial_'] .js-plotly-plot");
        const state = {
            curves: partial ? (partial.data || []).map(trace => trace.name) : [],
            lines: partial ? partial.querySelectorAll('.scatterlayer .trace').length : 0,
            final: !!document.querySelector('.st-key-opt_race_accuracy .js-plotly-plot'),
            running: !!document.querySelector("[data-testid='stApp'][data-test-script-state='running']"),
            progress: (document.querySelector("[data-testid='stProgress']") || {}).innerText || '',
        };
        const last = window.raceStates[window.raceStates.length - 1];
        if (!last || JSON.stringify({...last, t: 0}) !== JSON.stringify({...state, t: 0})) {
            window.raceStates.push({...state, t: Math.round(performance.now())});
        }
    };
    new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                       characterData: true});
    note();
}"""


def test_optimizers_page(page, server_url):
    # Issue 10 on a dark 1280x720 projector: the six optimizer names fit their picker.
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server_url, OPTIMIZERS_LINK)
    assert page.get_by_role("heading", name="Faster optimizers").is_visible()
    picker = page.get_by_test_id("stMultiSelect").filter(has_text="Optimizers").first
    picker.scroll_into_view_if_needed()
    box = picker.bounding_box()
    for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"):
        chip = picker.locator("span", has_text=name).last  # the chip's own label
        chip_box = chip.bounding_box()
        # Each chip lies whole inside the box: in a third of the width the list was cut after "nes".
        assert chip_box["x"] + chip_box["width"] <= box["x"] + box["width"] + 1, name
    screenshot(page, "issue10-optimizer-picker")

    press(page, "Run the optimizers", "The update equations with live values")

    # Issue 10, slow first results: a student sees the first racer's curve as soon as it has trained,
    # before the others have (the race used to draw nothing until all of them had finished).
    assert page.locator(".st-key-opt_race_accuracy").count() == 0  # this race has not run on this server yet
    page.evaluate(WATCH_THE_RACE)
    press(page, "Start the race", "Race: training loss per step")
    states = page.evaluate("window.raceStates")
    drawn = [state for state in states if state["lines"]]
    assert drawn, f"no racer's curve was drawn before the race ended: {states}"
    first = drawn[0]
    # The first curve is the first racer's, on screen while the race still runs and before its final charts.
    assert first["running"] and not first["final"], states
    assert first["curves"][:1] == ["SGD (lr 0.01)"] and first["lines"] < len(RACERS), states
    # The curves arrive in the racers' order, each new one drawn beside the ones before it.
    for state in drawn:
        names = [curve.split(" (")[0] for curve in state["curves"]]
        assert names == list(RACERS[:len(names)]), states
    # At the end the partial chart gives way to the race's own charts.
    assert page.locator(".st-key-opt_race_accuracy .js-plotly-plot").count() == 1
    assert page.locator("[class*='st-key-opt_race_partial_']").count() == 0

    press(page, "Train and watch the effective learning rate", "output layer's rate at the end")
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(".js-plotly-plot").count() == 6
    tall_screenshot(page, "topic-12-optimizers")


def test_practice_page(page, server_url):
    open_page(page, server_url, "practice")
    assert page.get_by_role("heading", name="Practice").is_visible()
    page.get_by_role("button", name="Train and check").first.click()
    page.get_by_text("Not yet.").first.wait_for(timeout=LONG)  # the lecture's 0.01 does not diverge
    wait_idle(page, timeout=LONG)
    assert page.locator(EXCEPTION).count() == 0
    assert page.get_by_text("0 of 4 exercises passed this session").is_visible()
    tall_screenshot(page, "topic-14-practice")


# Issue 10's smaller things, as a student sees them on a phone and a lecturer on a dark projector.
CLIPPED_FORMULAS = """() => Array.from(document.querySelectorAll("[data-testid='stMain'] .katex-display")).filter(el => {
    const box = el.getBoundingClientRect(), formula = el.querySelector('.katex').getBoundingClientRect();
    return formula.right > box.right + 1 || formula.left < box.left - 1;
}).map(el => el.innerText.slice(0, 20))"""


def test_losses_page(page, server_url):
    # Issue 10: the formulas fit a phone and a dark projector; then the experiments, on the projector.
    for width, height, scheme in ((390, 844, "light"), (1280, 720, "dark")):
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size({"width": width, "height": height})
        open_page(page, server_url, "losses")
        page.locator(".katex-display").first.wait_for(timeout=30_000)
        # H(p) and MAE's closing bar were cut off at the right edge of their half-width column.
        assert page.evaluate(CLIPPED_FORMULAS) == [], f"formulas cut off at {width}x{height}"
        assert page.locator("[data-testid='stMain'] .katex-display").count() >= 4  # one formula per cell
        screenshot(page, f"issue10-loss-formulas-{width}")
    assert page.get_by_role("heading", name="Loss functions").is_visible()
    press(page, "Fit MSE and MAE", "MSE fit slope")
    press(page, "Train a small model and compare the losses", "Sparse and categorical cross-entropy are the same")
    press(page, "Train with the custom loss", "custom Huber fit")
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(".js-plotly-plot").count() == 5  # regression, two cross-entropy, entropy, custom
    tall_screenshot(page, "topic-13-losses")

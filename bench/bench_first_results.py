"""Topic pages in a real browser: time from pressing a page's main button to its first result chart.

Usage (from the project root, with Debian's Chromium installed):
    OPTLAB_DATA_DIR=../shared/data python -m bench.bench_first_results

It starts `streamlit run app.py` on a free loopback port, opens Home and waits until the
training worker has warmed up (a warm server: TensorFlow and the data loaded, nothing else
computed), then, in this order, each in a fresh browser tab:

1. opens a lecture preset's link (the first preset of the server) and times from the
   navigation to its first result chart;
2. on each measured topic page, presses the main button and times from the click to the
   experiment's first result chart (issue 10's target: 10 s on a warm server).

Every page's result caches are cold: each case is the first of its kind on this server.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("OPTLAB_DATA_DIR", str(ROOT.parent / "shared" / "data"))

from devtools.local_server import CHROMIUM, CHROMIUM_ARGS, IDLE, SCREENSHOTS, start_server  # noqa: E402

TIMEOUT_MS = 120_000
WARM_UP_SECONDS = 25  # the worker's warm-up takes 4-8 s here; leave room for a busy machine
# (what, page path, button key or None for a preset link, keys of the charts that count as its first result:
# a curve drawn while the rest still trains counts, as it does for a student)
CASES = (
    ("first preset of the server (batch-norm)", "batch-norm?preset=batch-norm", None, "bn_partial_0 bn_partial_1 bn_accuracy_chart"),
    ("Batch normalisation: placements", "batch-norm", "bn_train", "bn_partial_0 bn_partial_1 bn_accuracy_chart"),
    ("Batch normalisation: statistics", "batch-norm", "bn_stats_run", "bn_statistics_chart"),
    ("Faster optimizers: 2-D surface", "optimizers", "opt_run", "opt_surface_chart"),
    ("Faster optimizers: race", "optimizers", "opt_race_run", "opt_race_partial_1 opt_race_partial_2 opt_race_accuracy"),
    ("Faster optimizers: AdaGrad", "optimizers", "opt_adagrad_run", "opt_effective_chart"),
    ("SGD and the learning rate", "learning-rate", "lr_train", "lr_loss_chart"),
    ("Model and activations", "model", "model_submit", "model_partial_0 model_partial_1 model_partial_2 model_accuracy"),
)


def chart_shown(keys: str) -> str:
    return ", ".join(f".st-key-{key} .js-plotly-plot" for key in keys.split())


WORKER_STOPPED = "[data-testid='stAlert']:has-text('The training worker stopped')"


def measure(browser, url: str, path: str, button: str | None, chart: str) -> float | None:
    """Seconds from the click (or the navigation, for a preset link) to the chart drawn in the browser.

    Returns None when the training worker died meanwhile (the page says so; the caller retries).
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        start = time.perf_counter()
        page.goto(f"{url}/{path}")
        if button is not None:
            page.wait_for_selector(IDLE, timeout=60_000)
            if page.locator(chart_shown(chart)).count():
                return 0.0  # already shown (a cached result)
            start = time.perf_counter()
            page.locator(f".st-key-{button} button").click()
        try:
            page.wait_for_selector(f"{chart_shown(chart)}, {WORKER_STOPPED}", timeout=TIMEOUT_MS)
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / f"first-results-{chart.split()[0]}.png"), full_page=True)
            raise
        seconds = time.perf_counter() - start
        # Let the rest of the experiment finish, so it does not share the cores with the next case.
        page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
        return None if page.locator(WORKER_STOPPED).count() else seconds
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="measure only the cases whose name contains one of these words")
    args = parser.parse_args()
    process, url = start_server(("--server.fileWatcherType", "none"))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            home = browser.new_page()
            home.goto(url)
            home.wait_for_selector(IDLE, timeout=60_000)
            time.sleep(WARM_UP_SECONDS)
            home.close()
            for name, path, button, chart in CASES:
                if args.only and not any(word.lower() in name.lower() for word in args.only):
                    continue
                for attempt in range(3):  # a worker that died while warming up is replaced; measure again
                    seconds = measure(browser, url, path, button, chart)
                    if seconds is not None:
                        break
                shown = "worker stopped" if seconds is None else f"{seconds:6.1f} s"
                print(f"{name:45s} {shown}{' (attempt %d)' % (attempt + 1) if attempt else ''}", flush=True)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()

"""Class-load test: N students open the Training Lab at once and press Train.

Usage (from the project root; loopback only):
    OPTLAB_DATA_DIR=../shared/data python -m bench.bench_class_load [--sessions 30] [--scenario both] [--client both]
    OPTLAB_DATA_DIR=../shared/data python -m bench.bench_class_load --scenario fairness --client websocket

It starts `streamlit run app.py` on a free 127.0.0.1 port and drives N sessions
at the same time, as one of two kinds of client:

- "websocket": Streamlit's own protocol (bench/streamlit_client.py), nothing
  drawn. This is the server's view of a class whose laptops and phones do
  their own drawing: the load generator costs almost nothing.
- "browser": headless Chromium contexts (Debian's /usr/bin/chromium). On this
  2-core machine the 30 renderers compete with the server for the same cores,
  so these times are an upper bound that no real class sees.

Scenario "preset": every session trains the default configuration, as a class
does when the lecturer shares one link. Scenario "distinct": every session trains
its own configuration (a different seed). Scenario "shapes": every session also
has its own hidden widths and optimizer, so every run traces new graphs, the worst
case for memory. For each it prints errors, p50/p95 seconds from pressing Train to
the final result, the peak RSS of the server and its training worker together,
how many trainings ran against how many were served from the cache,
and the CPU seconds of the server and of everything else while the class ran.
Before the class arrives, one warm-up run (another seed) loads TensorFlow, the
data and the traced graph, as a lecturer trying the app before the lecture does;
it is not counted. Targets: zero errors, peak RSS <= 2.5 GB, identical presets
trained once, p95 <= 10 s for the preset scenario, p95 <= 30 s for distinct.

Scenario "fairness": two sessions start the longest run the per-run budget
allows (all 55,000 images, 10 x 1,024 units... cut to what fits), and once both
are training, five more sessions train the default; it prints the five's seconds.
Target: each of the five finishes within 45 s.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
from playwright.async_api import async_playwright

from bench.streamlit_client import StreamlitSession, trigger
from devtools.local_server import CHROMIUM, CHROMIUM_ARGS, IDLE, start_server, tree_cpu_seconds

RESULT = "[data-testid='stMetricLabel']:has-text('Test accuracy')"


class PeakRss(threading.Thread):
    """Samples the resident memory of the server and its children (the worker) every 0.2 s, keeping the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process, self.peak, self.running = psutil.Process(pid), 0, True

    def run(self) -> None:
        while self.running:
            total = 0
            try:
                for each in (self.process, *self.process.children(recursive=True)):
                    total += each.memory_info().rss
            except psutil.Error:
                pass  # a worker being replaced; the next sample counts its successor
            self.peak = max(self.peak, total)
            time.sleep(0.2)


async def one_session(browser, url: str, query: str, timeout_ms: int) -> tuple[float | None, str | None]:
    """Open the Training Lab, press Train, and time until the result is drawn."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(f"{url}/training-lab{query}", timeout=timeout_ms)
        await page.wait_for_selector(IDLE, timeout=timeout_ms)
        await page.get_by_role("button", name="Train", exact=True).click(timeout=timeout_ms)  # the per-session limit, as for the page and the result
        start = time.perf_counter()
        await page.wait_for_selector(RESULT, timeout=timeout_ms)
        seconds = time.perf_counter() - start
        if await page.locator("[data-testid='stException']").count():
            return None, "exception element on the page"
        return seconds, None
    except Exception as error:  # a timeout or a closed page is an error of this session
        return None, f"{type(error).__name__}: {str(error).splitlines()[0]}"
    finally:
        await context.close()


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, all processes) since boot."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


async def one_websocket_session(url: str, query: str, timeout_ms: int) -> tuple[float | None, str | None]:
    """The same student as one_session, speaking Streamlit's websocket protocol instead of drawing."""
    try:
        async with StreamlitSession(url, "training-lab", query) as session:
            opened = await session.run(timeout=timeout_ms / 1000)
            if opened.exception or "Train" not in opened.buttons:
                return None, f"the page opened without a Train button ({opened.exception})"
            start = time.perf_counter()
            finished = await session.run((trigger(opened.buttons["Train"]),), until_metric="Test accuracy",
                                         timeout=timeout_ms / 1000)
            seconds = time.perf_counter() - start
            if finished.exception or finished.errors:
                return None, finished.exception or finished.errors[0]
            return seconds, None
    except Exception as error:  # a timeout or a dropped connection is an error of this session
        return None, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


SHAPE_OPTIMIZERS = ("SGD", "Momentum", "Adam", "RMSprop", "AdaGrad", "Nesterov")


def session_query(scenario: str, index: int, settings: str = "") -> str:
    """The shared link a session opens: the default, a seed of its own, or a shape of its own too.

    Args:
        scenario: "preset", "distinct" or "shapes".
        index: the session's number.
        settings: more lab settings every link carries (for example "lab_epochs=1" for a short run).
    Returns:
        the link's query, "" or starting with "?".
    """
    parts = [settings] if settings else []
    if scenario != "preset":
        parts.append(f"lab_seed={1000 + index}")
    if scenario == "shapes":
        width = 120 + 6 * index
        parts.append(f"lab_hidden_units={width}%2C+{width // 2}&lab_optimizer={SHAPE_OPTIMIZERS[index % 6]}")
    return "?" + "&".join(parts) if parts else ""


async def run_scenario(url: str, sessions: int, scenario: str, timeout_ms: int, on_class_start=None,
                       client: str = "browser", settings: str = ""):
    """Warm the server with one run, then all sessions at once; returns their (seconds, error) pairs."""
    queries = [session_query(scenario, index, settings) for index in range(sessions)]
    warm_up = "?" + "&".join(part for part in ("lab_seed=7", settings) if part)
    if client == "websocket":
        _, error = await one_websocket_session(url, warm_up, timeout_ms)
        if error:
            raise RuntimeError(f"warm-up run failed: {error}")
        if on_class_start is not None:
            on_class_start()
        return await asyncio.gather(*(one_websocket_session(url, query, timeout_ms) for query in queries))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # The lecturer opens the app before the lecture: TensorFlow, the data and the
            # traced graph are loaded, but the class's configuration is not cached yet.
            _, error = await one_session(browser, url, warm_up, timeout_ms)
            if error:
                raise RuntimeError(f"warm-up run failed: {error}")
            if on_class_start is not None:
                on_class_start()
            return await asyncio.gather(*(one_session(browser, url, query, timeout_ms) for query in queries))
        finally:
            await browser.close()


def run_coroutine(coroutine):
    """`asyncio.run`, in a thread of its own when this thread already runs an event loop.

    Playwright's sync API (the browser tests' page fixture) keeps a loop running in the main thread, so in a
    test session where a browser test came first, `asyncio.run` here raised "cannot be called from a running
    event loop".

    Args:
        coroutine: the scenario to run.
    Returns:
        the coroutine's result.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def measure(scenario: str, sessions: int, timeout_s: float = 600, client: str = "browser", settings: str = "",
            server: tuple | None = None) -> dict:
    """Run one scenario against a fresh server (or a running one) and return its figures.

    Args:
        scenario: "preset" or "distinct".
        sessions: how many concurrent sessions.
        timeout_s: per-session limit.
        client: "browser" (headless Chromium contexts) or "websocket" (Streamlit's protocol, nothing drawn).
        settings: more lab settings every link carries, e.g. "lab_train_size=1000&lab_epochs=1" for short runs.
        server: (process, url, stats file) of a server started with OPTLAB_STATS_FILE set, to use instead of
            starting a fresh one; its counters are read before and after the class, so earlier work does not count.
    Returns:
        dict with errors, p50, p95, peak_rss_mb, trained and served_from_cache.
    """
    if server is None:
        stats_file = Path(tempfile.mkdtemp()) / "stats.json"
        process, url = start_server(env={"OPTLAB_STATS_FILE": str(stats_file)})
    else:
        process, url, stats_file = server
    sampler = PeakRss(process.pid)
    sampler.start()
    # CPU seconds of the server and of everything else on the machine (the load generator) while the
    # class runs: on these 2 cores browsers compete with the server, which a class's laptops do not.
    server_process, marks = psutil.Process(process.pid), {}

    def readings():
        return time.perf_counter(), tree_cpu_seconds(server_process), _busy_seconds()

    def class_start():
        # The counters once the warm-up run has finished (the server writes them before it answers).
        marks["stats"] = read_stats(stats_file)
        marks["start"] = readings()

    try:
        outcomes = run_coroutine(run_scenario(url, sessions, scenario, int(timeout_s * 1000), class_start, client,
                                            settings))
        wall, server_cpu, busy = (now - then for now, then in zip(readings(), marks["start"]))
        generator_cpu = max(0.0, busy - server_cpu)
    finally:
        sampler.running = False
        if server is None:
            process.terminate()
            process.wait(timeout=30)
    times = sorted(seconds for seconds, error in outcomes if error is None)
    stats, before = read_stats(stats_file), marks.get("stats", {})
    return {
        "scenario": scenario, "sessions": sessions, "client": client,
        "errors": [error for _, error in outcomes if error is not None],
        "p50": statistics.median(times) if times else None,
        "p95": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))] if times else None,
        "peak_rss_mb": sampler.peak / 2**20,
        "trained": stats.get("trained", 0) - before.get("trained", 0),
        "served_from_cache": stats.get("served_from_cache", 0) - before.get("served_from_cache", 0),
        "wall_s": wall, "server_cpu_s": server_cpu, "browser_cpu_s": generator_cpu,
    }


def read_stats(stats_file: Path) -> dict:
    """The server's training counters (lab.admission writes them after every request); {} before the first."""
    return json.loads(stats_file.read_text()) if stats_file.exists() else {}


async def fairness_sessions(url: str, timeout_ms: int, students: int = 5) -> dict:
    """Two sessions start the longest runs the budget allows; then `students` default runs are timed."""
    warm, error = await one_websocket_session(url, "?lab_seed=7", timeout_ms)
    if error:
        raise RuntimeError(f"warm-up run failed: {error}")
    long_query = "?lab_train_size=all&lab_hidden_units=1024%2C+1024&lab_epochs={epochs}&lab_seed={seed}"
    epochs = await longest_epochs(url, long_query, timeout_ms)
    long_runs = [asyncio.create_task(one_websocket_session(url, long_query.format(epochs=epochs, seed=seed),
                                                           timeout_ms)) for seed in (1, 2)]
    await asyncio.sleep(3.0)  # both long runs hold the training slots by now
    short = await asyncio.gather(*(one_websocket_session(url, f"?lab_seed={2000 + index}", timeout_ms)
                                   for index in range(students)))
    long = await asyncio.gather(*long_runs)
    return {"epochs": epochs, "students": short, "long": long}


async def longest_epochs(url: str, long_query: str, timeout_ms: int) -> int:
    """The most epochs of the long run that the server accepts, read from its refusal of 50."""
    import re

    async with StreamlitSession(url, "training-lab", long_query.format(epochs=50, seed=3)) as session:
        opened = await session.run(timeout=timeout_ms / 1000)
        refused = await session.run((trigger(opened.buttons["Train"]),), timeout=timeout_ms / 1000)
    match = re.search(r"Try at most (\d+) epoch", " ".join(refused.texts))
    if not match:
        raise RuntimeError(f"the 50-epoch run was not refused: {refused.texts[:3]}")
    return max(1, int(match.group(1)) - 1)  # one epoch of margin: later runs refine the step-time estimate


def measure_fairness(timeout_s: float = 300) -> dict:
    """Run the fairness scenario against a fresh server.

    Args:
        timeout_s: per-session limit.
    Returns:
        dict with the long runs' epochs, the students' seconds and errors, and the long runs' outcomes.
    """
    process, url = start_server()
    try:
        outcome = run_coroutine(fairness_sessions(url, int(timeout_s * 1000)))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return outcome


def report_fairness(outcome: dict) -> str:
    """One line of figures for README.md."""
    seconds = [f"{value:.1f}" for value, error in outcome["students"] if error is None]
    errors = [error for _, error in outcome["students"] if error is not None]
    long = [f"{value:.1f}" if error is None else error for value, error in outcome["long"]]
    return (f"fairness  two long runs (all images, 1024-1024, {outcome['epochs']} epochs) took {', '.join(long)} s; "
            f"five default runs started behind them finished in {', '.join(seconds)} s "
            f"(max {max(value for value, error in outcome['students'] if error is None):.1f} s); errors {len(errors)}")


def report(figures: dict) -> str:
    """One line of figures for README.md."""
    p50 = f"{figures['p50']:.1f}" if figures["p50"] is not None else "-"
    p95 = f"{figures['p95']:.1f}" if figures["p95"] is not None else "-"
    return (f"{figures['scenario']:8s} {figures['client']:9s} sessions {figures['sessions']:3d}  "
            f"errors {len(figures['errors'])}  "
            f"p50 {p50} s  p95 {p95} s  peak RSS {figures['peak_rss_mb']:.0f} MB  "
            f"trained {figures['trained']}  served from cache {figures['served_from_cache']}\n"
            f"{'':8s} CPU while the class ran ({figures['wall_s']:.0f} s wall, 2 cores): server and its worker "
            f"{figures['server_cpu_s']:.0f} s ({figures['server_cpu_s'] / figures['sessions']:.2f} s per session), "
            f"load generator and the rest {figures['browser_cpu_s']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--scenario", choices=("preset", "distinct", "shapes", "fairness", "both"), default="both",
                        help="both: preset and distinct")
    parser.add_argument("--client", choices=("websocket", "browser", "both"), default="both",
                        help="websocket: Streamlit's protocol, nothing drawn (the server's view); browser: "
                             "headless Chromium contexts on the same cores (adds their rendering)")
    args = parser.parse_args()
    os.environ.setdefault("OPTLAB_DATA_DIR", str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    if args.scenario == "fairness":
        print(report_fairness(measure_fairness()))
        return
    clients = ("websocket", "browser") if args.client == "both" else (args.client,)
    scenarios = ("preset", "distinct") if args.scenario == "both" else (args.scenario,)
    for client, scenario in ((client, scenario) for client in clients for scenario in scenarios):
        figures = measure(scenario, args.sessions, client=client)
        print(report(figures))
        for error in sorted(set(figures["errors"]))[:5]:
            print(f"    error: {error}")


if __name__ == "__main__":
    main()

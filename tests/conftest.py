"""Shared fixtures: the real datasets from the data folder.

The data folder is OPTLAB_DATA_DIR, or ../shared/data beside the project when
that exists. Under CI (CI=true) a missing folder is a failure, never a skip.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_DATA = ROOT.parent / "shared" / "data"
if "OPTLAB_DATA_DIR" not in os.environ and _DEFAULT_DATA.is_dir():
    os.environ["OPTLAB_DATA_DIR"] = str(_DEFAULT_DATA)


def _require_data() -> Path:
    folder = os.environ.get("OPTLAB_DATA_DIR")
    if folder and Path(folder).is_dir():
        return Path(folder)
    message = f"no data folder: set OPTLAB_DATA_DIR (looked at {folder or _DEFAULT_DATA})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return _require_data()


@pytest.fixture(scope="session")
def fashion(data_dir):
    from lab.data import load_dataset

    return load_dataset("fashion_mnist", data_dir)


@pytest.fixture(scope="session")
def mnist(data_dir):
    from lab.data import load_dataset

    return load_dataset("mnist", data_dir)


@pytest.fixture(scope="module")
def small_experiments(data_dir):
    """For a module of page AppTests: the training service answers with small real experiments (tests/canned.py)."""
    from tests.canned import small_experiments as small

    with small() as service:
        yield service


@pytest.fixture(scope="session", autouse=True)
def installed_components_scanned_once():
    """Streamlit scans the installed packages for components once per session, not once per AppTest.

    Every new AppTest reads the metadata of every installed distribution (about 300 here) looking for
    Streamlit components: 1 to 1.5 s of CPU each time, and the everyday tier makes well over a hundred
    AppTests. The installed packages do not change while the tests run, so the first scan's answer is
    the answer of every later one; each AppTest still registers the components it names itself.
    """
    from streamlit.components.v2 import manifest_scanner

    scan = manifest_scanner.scan_component_manifests
    first_scan = functools.cache(scan)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests", lambda *args: list(first_scan(*args)))
        yield


@pytest.fixture(scope="session", autouse=True)
def no_keras_reset_after_each_apptest_run():
    """AppTests run their scripts with no Keras reset after each run, as the server does.

    After every script run, Streamlit calls `keras.backend.clear_session()` when Keras is in the process
    (`script_runner._clean_problem_modules`): a full garbage collection of a heap that holds TensorFlow.
    The server never imports Keras (tests/lab/test_service.py checks it), so there it does nothing; in
    a test process the backend tests have imported Keras, and the reset cost about a sixth of the
    everyday tier's CPU (py-spy over the tier). It also reset the Keras state of this process's
    own backend tests. Streamlit's other clean-up there closes Matplotlib figures, which the app never makes.
    """
    from streamlit.runtime.scriptrunner import script_runner

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(script_runner, "_clean_problem_modules", lambda: None)
        yield


# A later case of a page check (a second preset, link or spelling): in the full tier only, which CI runs.
# The everyday tier checks each kind of page behaviour once per file of page tests (see first_everyday).
full_tier_case = pytest.mark.slow


def first_everyday(*cases) -> list:
    """Cases of one page check: the first in the everyday tier, the others in the full tier only (marked slow).

    The everyday tier checks each kind of page behaviour (a preset, a link's round trip, a hostile link)
    once per file of page tests; the full tier, which CI runs, checks every case. Each case opens a page
    and often trains a small experiment that no other test asks for.

    Args:
        cases: the parametrize values, in order (a tuple for several arguments).
    Returns:
        the values for pytest.mark.parametrize.
    """
    return [cases[0], *(pytest.param(*(case if isinstance(case, tuple) else (case,)), marks=full_tier_case)
                        for case in cases[1:])]


def _group(item) -> tuple[int, str]:
    """An item's xdist group, and the group's place in the queue (lower first)."""
    if item.get_closest_marker("browser"):
        return 0, "browser"
    file_name = item.nodeid.split("::")[0]
    if "small_experiments" in item.fixturenames:
        return 2, file_name  # a file of page AppTests, its slow cases too: its small experiments are computed once
    if item.get_closest_marker("slow"):
        return 1, item.nodeid  # minutes each, on session fixtures only: alone, they share out evenly
    return 3, file_name


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    """Group the tests for `pytest -n 2 --dist loadgroup`: the browser tests together, each slow backend test alone,
    every other file whole; and queue the longest groups first.

    The browser tests share one `streamlit run` server and take turns with one Chromium, so they run in
    one worker; a file's module fixtures (its small experiments, its training service) are built once,
    so a file stays in one worker too. The two workers then overlap a browser waiting for a page with
    Keras training in the other process, on the machine's two cores.

    Each worker takes the next group when it is nearly done with its last, in the order of the items
    (pytest.ini turns off xdist's reordering by test count, which put the 45 quick config tests first and
    the claims file, minutes of training in one group, wherever its count fell). So the long groups come
    first: the browser tests, the slow tests, the pages' AppTests; the many short backend files last
    even out the two workers' ends.
    """
    ranked = {item: _group(item) for item in items}
    for item, (_, group) in ranked.items():
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: ranked[item][0])  # stable: a file keeps its tests' order

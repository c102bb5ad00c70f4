"""Shared fixtures: the real datasets from the data folder.

The data folder is OPTLAB_DATA_DIR, or ../shared/data beside the project when
that exists. Under CI (CI=true) a missing folder is a failure, never a skip.
"""

from __future__ import annotations

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


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    """Group the tests for `pytest -n 2 --dist loadgroup`: the browser tests together, every other file whole.

    The browser tests share one `streamlit run` server and take turns with one Chromium, so they run in
    one worker; a file's module fixtures (its small experiments, its training service) are built once,
    so a file stays in one worker too. The two workers then overlap a browser waiting for a page with
    Keras training in the other process, on the machine's two cores.
    """
    for item in items:
        group = "browser" if item.get_closest_marker("browser") else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))

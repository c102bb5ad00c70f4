"""The suite's own layout: `-n 2 --dist loadgroup` runs each file, and all browser tests, in one worker.

tests/conftest.py gives every test an xdist group. pytest-xdist applies a group by adding it to the
test's id, which pytest 9.2 no longer lets it do: there, every group was silently ignored, the files
were split between the two workers (each building the module fixtures and small experiments again),
and both workers started a `streamlit run` server and a Chromium for the browser tests.
"""

import os


def test_this_file_is_one_xdist_group_and_xdist_sees_it(request):
    (mark,) = request.node.iter_markers("xdist_group")
    assert mark.args == ("tests/test_groups.py",)
    if os.environ.get("PYTEST_XDIST_WORKER") and getattr(request.config.option, "loadgroup", False):
        assert request.node.nodeid.endswith("@tests/test_groups.py"), request.node.nodeid

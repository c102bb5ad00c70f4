"""Class-load smoke test: a few students at once, through bench/bench_class_load.py (full N is a benchmark).

Both run on the session's server (what they check does not need a fresh one: the benchmark's counters are
read before and after the class) and train a short run: what they check is that one identical preset is
trained once and served to the others, not Keras. Each test's preset differs from the other's (its
validation size), so neither finds its preset already in the server's result cache. Five students speak
Streamlit's protocol; three draw in Chromium, whose renderers on these 2 cores cost far more than the
server does (the benchmark's browser_cpu_s), and three already show one run served to two others.
"""

import pytest

from bench.bench_class_load import measure

pytestmark = pytest.mark.browser

SHORT_RUN = "lab_train_size=1000&lab_epochs=1"


def test_three_students_in_browsers_pressing_train_on_the_same_preset(app_server):
    figures = measure("preset", sessions=3, timeout_s=300, settings=f"{SHORT_RUN}&lab_validation_size=500",
                      server=app_server)
    assert figures["errors"] == []
    assert figures["trained"] == 1  # one training, the other two served from it
    assert figures["served_from_cache"] >= 2
    assert figures["peak_rss_mb"] < 2_500


def test_five_websocket_students_see_the_same_result(app_server):
    # The benchmark's light client: Streamlit's own protocol, so the figures are the server's.
    figures = measure("preset", sessions=5, timeout_s=300, client="websocket",
                      settings=f"{SHORT_RUN}&lab_validation_size=1000", server=app_server)
    assert figures["errors"] == [] and figures["client"] == "websocket"
    assert figures["trained"] == 1 and figures["served_from_cache"] >= 4
    assert figures["p95"] is not None and figures["server_cpu_s"] > 0

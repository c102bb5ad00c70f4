"""Class-load smoke test: a few students at once, through bench/bench_class_load.py (full N is a benchmark)."""

import pytest

from bench.bench_class_load import measure

pytestmark = pytest.mark.browser


def test_five_students_pressing_train_on_the_same_preset(data_dir):
    figures = measure("preset", sessions=5, timeout_s=300)
    assert figures["errors"] == []
    assert figures["trained"] == 1  # one training, the other four served from it
    assert figures["served_from_cache"] >= 4
    assert figures["peak_rss_mb"] < 2_500


def test_five_websocket_students_see_the_same_result(data_dir):
    # The benchmark's light client: Streamlit's own protocol, so the figures are the server's.
    figures = measure("preset", sessions=5, timeout_s=300, client="websocket")
    assert figures["errors"] == [] and figures["client"] == "websocket"
    assert figures["trained"] == 1 and figures["served_from_cache"] >= 4
    assert figures["p95"] is not None and figures["server_cpu_s"] > 0

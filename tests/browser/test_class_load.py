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

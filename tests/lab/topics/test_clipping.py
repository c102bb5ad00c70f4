"""lab.topics.clipping (page 11, gradient clipping) with real Keras on the real Fashion-MNIST, fixed seeds.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import re
import math

import numpy as np
import pytest

from lab.topics import clipping


EXACT_CLIPNORM = [0.1 / math.hypot(0.1, 10.0), 10.0 / math.hypot(0.1, 10.0)]  # [0.0099995, 0.99995]


@pytest.mark.parametrize("text, expected", [
    ("0.1, 10", [0.1, 10.0]),
    ("[0.1, 10]", [0.1, 10.0]),
    (" 3,-4 , 0.5 ", [3.0, -4.0, 0.5]),
    ("1e-3", [0.001]),
])
def test_parse_vector_reads_comma_separated_numbers(text, expected):
    assert clipping.parse_vector(text).tolist() == expected


@pytest.mark.parametrize("text, message", [
    ("", "at least one number"),
    ("1, abc", "Entry 2 ('abc') is not a number"),
    ("__import__('os').getcwd()", "is not a number"),
    ("2**3", "is not a number"),
    ("1,,2", "Entry 2"),
    ("nan, 1", "finite"),
    ("1, inf", "finite"),
    (",".join(["1"] * 1_001), "At most 1,000"),
    ("1e20, 1", "Entry 1 ('1e20') is too large"),  # its square overflows float32, where Keras clips
])
def test_parse_vector_rejects_anything_else_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        clipping.parse_vector(text)


def test_slide_example_clipvalue_changes_direction_clipnorm_keeps_it():
    comparison = clipping.compare_clipping(clipping.parse_vector("0.1, 10"), 1.0)
    assert comparison.clipped["value"] == pytest.approx([0.1, 1.0], rel=1e-6)
    assert comparison.angles["value"] > 5.0  # atan(10) - atan(100) = 5.14 degrees
    assert comparison.clipped["norm"] == pytest.approx(EXACT_CLIPNORM, rel=1e-6)
    assert comparison.angles["norm"] < 1e-3
    # The slides print [0.00999995, 0.999995]: one 9 too many, off by 4.5e-5 relative.
    slide = np.array(clipping.SLIDE_CLIPNORM_PRINTED)
    assert np.all(np.abs(comparison.clipped["norm"] - slide) / slide > 1e-5)
    table = comparison.table()
    assert list(table["vector"]) == ["original gradient", "clipvalue=1", "clipnorm=1"]
    assert table["norm"][2] == pytest.approx(1.0, rel=1e-6)


def test_clipnorm_keeps_the_direction_of_any_vector_and_clipvalue_caps_components():
    rng = np.random.default_rng(0)
    for _ in range(5):
        gradient = rng.normal(scale=5.0, size=int(rng.integers(2, 50)))
        comparison = clipping.compare_clipping(gradient, 0.5)
        assert comparison.angles["norm"] < 1e-3
        assert np.linalg.norm(comparison.clipped["norm"]) == pytest.approx(0.5, rel=1e-5)
        assert np.max(np.abs(comparison.clipped["value"])) <= 0.5 + 1e-7
    short = clipping.compare_clipping(np.array([0.3, -0.4]), 1.0)  # norm 0.5: nothing to clip
    assert short.clipped["norm"] == pytest.approx([0.3, -0.4], rel=1e-6)


def test_clipping_arrows_and_bars_figures():
    figure = clipping.clipping_arrows_figure(clipping.compare_clipping(np.array([0.1, 10.0]), 1.0))
    names = [trace.name for trace in figure.data]
    assert names[1:] == ["clipvalue=1", "clipnorm=1"] and "direction of the original" in names[0]
    assert all(trace.marker.symbol == "arrow" for trace in figure.data)
    assert list(figure.data[2].x) == pytest.approx([0.0, EXACT_CLIPNORM[0]], rel=1e-6)
    assert figure.layout.yaxis.scaleanchor == "x"  # equal scale, so angles look like angles
    bars = clipping.clipping_bars_figure(clipping.compare_clipping(np.array([3.0, -4.0, 0.5]), 2.0))
    assert [trace.type for trace in bars.data] == ["bar"] * 3 and len(bars.data[0].x) == 3


@pytest.fixture(scope="module")
def rescue(fashion):
    return clipping.train_with_and_without_clipping(clipping.rescue_config(), fashion)


def test_learning_rate_one_diverges_without_clipping_and_trains_with_clipnorm(rescue):
    without, with_clip = rescue["without"], rescue["with"]
    assert without.config.learning_rate == with_clip.config.learning_rate == 1.0
    assert without.config.seed == with_clip.config.seed
    assert without.stop_reason == "diverged" and without.stop_epoch == 0
    assert with_clip.stop_reason == "completed"
    assert with_clip.history["val_accuracy"][-1] > 0.3  # far above the 10% of chance
    assert 0.2 < with_clip.clipped_fraction <= 1.0
    assert without.clipped_fraction == 0.0
    # clipnorm caps each tensor, so a layer (kernel and bias) is at most sqrt(2) times the threshold after it,
    # while before it the gradients were far larger.
    assert max(max(entry["clipped_layer_norms"]) for entry in with_clip.step_log) <= math.sqrt(2) + 1e-4
    assert max(max(entry["layer_norms"]) for entry in with_clip.step_log) > 2.0


def test_clipping_loss_figure_marks_the_divergence(rescue):
    figure = clipping.clipping_loss_figure(rescue)
    assert [trace.name for trace in figure.data] == ["no clipping: batch loss", "clipnorm=1: batch loss"]
    assert figure.layout.yaxis.type == "log"
    # Issue 10: "81.4 by step 3" sat beside "diverged at step 4". The text, the marker and the line agree.
    without = rescue["without"]
    found = re.search(r"The batch loss (?:rose to (\S+)|became \S+) at step (\d+)", without.stop_detail)
    assert found, without.stop_detail
    step = int(found.group(2))
    assert [a.text for a in figure.layout.annotations] == [f"diverged at step {step}"]
    assert figure.layout.shapes[0].x0 == step
    line = figure.data[0]
    assert line.x[0] == 0 and line.x[-1] == step
    if found.group(1):
        assert f"{line.y[-1]:.3g}" == found.group(1)
    assert "clipnorm=1" in clipping.clipping_code(rescue["with"].config)

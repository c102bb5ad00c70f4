"""lab.topics.backprop (page 5, backprop on one mini-batch) with real Keras on the real Fashion-MNIST, fixed seeds.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import numpy as np
import plotly.graph_objects as go
import pytest

from lab.topics import backprop


@pytest.mark.parametrize("batch_seed", [0, 1, 2])
def test_small_step_lowers_the_batch_loss_and_a_huge_one_raises_it(fashion, batch_seed):
    small = backprop.backprop_step(fashion, learning_rate=0.01, batch_seed=batch_seed)
    huge = backprop.backprop_step(fashion, learning_rate=10.0, batch_seed=batch_seed)
    assert small.loss_before == pytest.approx(huge.loss_before)  # same batch, same starting weights
    assert small.loss_decreased and small.loss_after < small.loss_before - 0.01
    assert not huge.loss_decreased and huge.loss_after > 10 * huge.loss_before
    # The sweep from the same starting point agrees with the real step.
    sweep = small.sweep.set_index("learning_rate")["loss_after"]
    assert sweep[0.01] == pytest.approx(small.loss_after, rel=1e-4)
    assert sweep[10.0] == pytest.approx(huge.loss_after, rel=1e-3)
    assert small.overshoot_rate is not None and small.overshoot_rate <= 10.0


def test_one_step_records_forward_loss_backward_and_update(fashion):
    result = backprop.backprop_step(fashion, learning_rate=0.01, batch_seed=0)
    assert len(result.labels) == 32 and result.images.shape == (32, 28, 28)
    assert [layer.name for layer in result.layers] == ["hidden_1", "hidden_2", "output"]
    assert [layer.activations.shape for layer in result.layers] == [(32, 300), (32, 100), (32, 10)]
    assert result.keras_forward_difference < 1e-6  # the layer-by-layer pass is the model's own
    assert 0 < np.mean(result.layers[0].activations == 0) < 1  # relu zeroes some units
    assert np.allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert result.loss_before == pytest.approx(result.example_losses_before.mean(), rel=1e-5)
    # Backward: Keras's gradient equals the hand-derived h2^T (p - y) / 32.
    assert result.output_gradient_difference < 1e-6
    norms = {layer.name: layer.kernel_gradient_norm for layer in result.layers}
    assert result.largest_gradient_layer == max(norms, key=norms.get)
    # Update: plain SGD moves each kernel by exactly lr times its gradient.
    for layer in result.layers:
        assert layer.kernel_update_norm == pytest.approx(0.01 * layer.kernel_gradient_norm, rel=1e-3)
    frame = result.layer_frame()
    assert frame["output shape"].tolist() == ["(32, 300)", "(32, 100)", "(32, 10)"]
    for figure in (backprop.activations_figure(result, "hidden_2"), backprop.gradients_figure(result),
                   backprop.example_losses_figure(result), backprop.sweep_figure(result)):
        assert isinstance(figure, go.Figure) and len(figure.data) >= 1
    assert backprop.gradients_figure(result).layout.yaxis.rangemode == "tozero"  # a bar's length is its norm
    compile(backprop.step_code(0.01, 0), "step_code", "exec")


def test_backprop_claims_follow_the_sweep_not_the_chosen_rate(fashion):
    result = backprop.backprop_step(fashion, learning_rate=10.0)  # the default batch and weights, a huge step
    results = {0: result}
    assert result.model_seed == backprop.DEFAULT_MODEL_SEED
    assert backprop.HEADLINE_CLAIM.holds(results) and backprop.SMALL_STEP_CLAIM.holds(results) is False
    # The small-step claim reads the step actually taken; the sweep agrees with it at 0.01.
    small = backprop.backprop_step(fashion, learning_rate=0.01)
    assert backprop.SMALL_STEP_CLAIM.holds({0: small}) and backprop.HUGE_STEP_CLAIM.holds({0: small})
    # Had a rate of 3 lowered the loss, the headline would be false.
    bent = backprop.BackpropResult(**{**small.__dict__, "sweep": small.sweep.assign(
        loss_after=np.where(small.sweep["learning_rate"] == 3.0, 0.5, small.sweep["loss_after"]))})
    assert not backprop.HEADLINE_CLAIM.holds({0: bent})

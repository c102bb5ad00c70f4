"""lab.topics.gradients (page 9, vanishing and exploding gradients): real Keras on real Fashion-MNIST.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import dataclasses

import numpy as np

from lab.topics import gradients
from lab.training import train as shared  # the worker's trainer, here in the test process


def test_chain_rule_lists_its_factors_in_backward_order_for_z_equals_h_w_plus_b():
    text = gradients.CHAIN_RULE_LATEX
    # Each layer contributes diag(sigma'(z_l)) and then W_l^T, from layer n down to layer 2.
    order = [r"\partial h_n}", r"\sigma'(z_n)", "W_n^{\\top}", r"\sigma'(z_{n-1})", "W_{n-1}^{\\top}",
             r"\sigma'(z_2)", "W_2^{\\top}"]
    positions = [text.index(piece) for piece in order]
    assert positions == sorted(positions)
    assert r"\prod_{l=2}^{n} W_l" not in text  # the old, wrongly ordered product
    assert "z_l = h_{l-1} W_l + b_l" in gradients.CHAIN_RULE_CONVENTION


def test_chain_rule_in_that_order_equals_keras_backprop_on_real_images(fashion):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    layers = [keras.layers.Dense(units, activation="sigmoid") for units in (32, 24, 16)]  # h_1, h_2, h_3
    images = tf.constant(fashion.x_train[:8].reshape(8, -1) / 255.0, dtype=tf.float32)
    for layer, inputs in zip(layers, (784, 32, 24)):
        layer.build((None, inputs))
    with tf.GradientTape() as tape:
        h_1 = layers[0](images)
        tape.watch(h_1)
        hidden, preactivations = h_1, []
        for layer in layers[1:]:
            preactivations.append(tf.matmul(hidden, layer.kernel) + layer.bias)  # z_l = h_{l-1} W_l + b_l
            hidden = tf.sigmoid(preactivations[-1])
        loss = tf.reduce_sum(hidden ** 2)
    by_keras = tape.gradient(loss, h_1).numpy()
    upstream = (2 * hidden).numpy()  # dL/dh_n
    slopes = [(tf.sigmoid(z) * (1 - tf.sigmoid(z))).numpy() for z in preactivations]
    product = gradients.chain_rule_product(upstream, [layer.kernel.numpy() for layer in layers[1:]], slopes)
    assert np.abs(by_keras).max() > 0
    assert np.allclose(product, by_keras, rtol=1e-4, atol=1e-7)


def test_sigmoid_depth_10_first_layer_gradient_orders_of_magnitude_below_the_last(fashion):
    norms = gradients.initial_gradient_norms(gradients.deep_config(10, "sigmoid", 0.1), fashion)
    assert list(norms) == [f"hidden_{i}" for i in range(1, 11)] + ["output"]
    assert norms["hidden_1"] < 1e-4 * norms["output"]  # at least four orders of magnitude
    assert norms["hidden_1"] < 1e-3 * norms["hidden_10"]
    values = list(norms.values())
    assert all(earlier < later for earlier, later in zip(values[:-1], values[1:]))  # shrinking layer by layer
    # Smaller initial weights make it worse still.
    small = gradients.initial_gradient_norms(gradients.deep_config(10, "sigmoid", 0.01), fashion)
    assert small["hidden_1"] / small["output"] < 1e-3 * norms["hidden_1"] / norms["output"]


def test_large_init_explodes_and_batch_norm_evens_the_layers_out(fashion):
    tanh_large = gradients.initial_gradient_norms(gradients.deep_config(10, "tanh", 1.0), fashion)
    assert tanh_large["hidden_1"] > 100 * tanh_large["output"]  # exploding towards the input
    relu_large = gradients.initial_gradient_norms(gradients.deep_config(10, "relu", 0.5), fashion)
    assert min(relu_large.values()) > 1e3  # every layer's gradient huge
    for activation, stddev in (("sigmoid", 0.1), ("sigmoid", 0.01), ("tanh", 1.0)):
        fixed = gradients.initial_gradient_norms(gradients.deep_config(10, activation, stddev, "before"), fashion)
        assert 1e-2 < fixed["hidden_1"] / fixed["output"] < 1e2, (activation, stddev)


def test_depth_experiment_measures_both_networks_at_the_start_and_after_training(fashion):
    # 2,000 images for one epoch instead of the page's 10,000 for two. That the batch-norm twin learns (above 60%
    # at the defaults) is a claim, trained by tests/lab/test_claims.py; too few steps leave its moving statistics
    # behind, so its test accuracy here says nothing.
    runs = gradients.depth_experiment(fashion, gradients.deep_config(train_size=2_000, epochs=1), trainer=shared)
    plain, fixed = runs["as configured"], runs["with batch norm"]
    assert plain.config.batch_norm == "none" and fixed.config == dataclasses.replace(plain.config, batch_norm="before")
    assert gradients.diagnosis(plain) == "vanishing" and gradients.diagnosis(fixed) == "healthy"
    assert plain.test_accuracy < 0.2
    # The vanishing persists through training: the last epoch's first-layer norms stay tiny.
    assert plain.trained_norms["hidden_1"] < 1e-3 * plain.trained_norms["output"]
    assert fixed.trained_norms["hidden_1"] > 0.1 * fixed.trained_norms["output"]
    figure = gradients.layer_norms_figure(runs)
    assert figure.layout.yaxis.type == "log" and list(figure.data[0].x)[0] == "hidden_1"
    assert len(figure.data) == 4  # at start and last epoch, for both networks
    assert list(gradients.summary_table(runs)["network"]) == ["10 x sigmoid, σ=0.1", "10 x sigmoid, σ=0.1, batch norm before"]

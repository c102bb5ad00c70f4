"""Backprop on a mini-batch: one SGD step of the lecture's model on 32 real images, taken apart.

Teaching point: a training step is a forward pass (activations layer by layer),
a loss, a backward pass (a gradient for every weight, layer by layer from the
output back) and an update W <- W - eta * gradient. With a small learning rate
the step lowers that batch's loss; with a huge one it overshoots and raises it.
"""

import streamlit as st

from lab.claims import markdown_list
from lab.topics import backprop as topic
from lab.topics.data_explorer import image_grid_figure
from ui import present, presets
from ui.common import get_dataset, stored_result
from ui.service import compute

RESULT_KEY = "backprop_result"
RESULT_HEIGHT = 380  # the activations' height on a projector: with the layer buttons they fit 1280x720


@st.cache_data(max_entries=16, show_spinner="Taking one step on the batch...")
def _backprop_step(_dataset, dataset_name: str, learning_rate: float, batch_seed: int, model_seed: int):
    # Deterministic for its arguments, so equal requests (a lecture preset) are computed once per server.
    return compute(topic.backprop_step, _dataset, learning_rate, batch_seed, model_seed)


def _number_formats(frame) -> dict:
    # Four significant digits: the norms span several orders of magnitude. The layer name is pinned, so it stays in
    # sight when a phone scrolls the numbers sideways.
    formats = {column: st.column_config.NumberColumn(format="%.4g")
               for column in frame.columns if frame[column].dtype.kind == "f"}
    return {**formats, "layer": st.column_config.TextColumn(pinned=True)}


def _show_result(result, trained: bool = False) -> None:
    """The four stages of the step, drawn from a stored result (no computation here)."""
    with result_area.head(trained):
        with st.expander("The batch: 32 training images", expanded=False):
            present.chart(image_grid_figure(result.images, [result.class_names[label] for label in result.labels],
                                            columns=8), key="backprop_batch")

        st.header("1. Forward pass")
        layer_name = st.segmented_control("Layer", [layer.name for layer in result.layers], default="hidden_1",
                                          key="backprop_layer", bind="query-params") or "hidden_1"
        present.chart(topic.activations_figure(result, layer_name), key="backprop_activations",
                      projector_height=RESULT_HEIGHT)
    frame = result.layer_frame()
    forward = frame[list(topic.FORWARD_COLUMNS)]
    st.dataframe(forward, hide_index=True, key="backprop_layers", column_config=_number_formats(forward))

    st.header("2. The loss")
    left, right = st.columns(2)
    left.metric("Batch loss (mean cross-entropy)", f"{result.loss_before:.4f}")
    right.metric("Images classified right before the step", f"{result.correct_before} / {len(result.labels)}")

    st.header("3. Backward pass")
    present.chart(topic.gradients_figure(result), key="backprop_gradients")
    st.caption("Check by hand for the output layer: ∂L/∂W₃ = h₂ᵀ(p̂ − y)/32 matches GradientTape to "
               f"{result.output_gradient_difference:.1e}.")
    backward = frame[list(topic.BACKWARD_COLUMNS)]
    st.dataframe(backward, hide_index=True, key="backprop_gradient_norms", column_config={
        **_number_formats(backward),
        "RMS of dL/dW per weight": st.column_config.NumberColumn("RMS per weight", format="%.4g",
                                                                 help="RMS of dL/dW per weight"),
    })

    st.header("4. The update")
    left, right = st.columns(2)
    left.metric(f"Batch loss after one step (η = {result.learning_rate:g})", f"{result.loss_after:.4f}",
                delta=f"{result.loss_after - result.loss_before:+.4f}", delta_color="inverse")
    right.metric("Largest kernel update ‖ΔW‖", f"{result.largest_update:.3g}")
    if result.loss_decreased:
        st.success(f"With η = {result.learning_rate:g} the step lowered this batch's loss.")
    else:
        st.error(f"With η = {result.learning_rate:g} the step overshot: this batch's loss went up.")
    present.chart(topic.example_losses_figure(result), key="backprop_example_losses")
    present.chart(topic.sweep_figure(result), key="backprop_sweep")

    largest = next(layer for layer in result.layers if layer.name == result.largest_gradient_layer)
    overshoot = (f"from η = {result.overshoot_rate:g} on the step overshoots and the loss rises"
                 if result.overshoot_rate is not None else "none of the swept rates overshoots on this batch")
    st.info(
        f"**What to notice:** the gradient's norm is largest at **{largest.name}** ({largest.kernel_gradient_norm:.3g}), "
        f"summed over its {largest.kernel_size:,} weights; per weight "
        f"(RMS) it is largest at **{result.largest_gradient_rms_layer}**. The update is −η times the gradient, so it "
        f"grows in proportion to η. On this batch one step works best near η = {result.best_sweep_rate:g}, and "
        f"{overshoot}. One step on one batch is not training: the next batch is different, and the learning-rate "
        "page compares rates over whole runs."
    )
    if (result.batch_seed, result.model_seed) == (topic.DEFAULT_BATCH_SEED, topic.DEFAULT_MODEL_SEED):
        st.markdown("Measured on the default batch and initial weights and checked by the tests:\n"
                    + markdown_list(topic.RESULT_CLAIMS))
    with st.expander("Show Keras code"):
        st.code(topic.step_code(result.learning_rate, result.batch_seed), language="python")


st.title("Backprop on a mini-batch")
result_area = present.ResultArea("backprop_result_area")  # on a projector the step's forward pass comes first
st.markdown(
    "**Claim:** one training step on a batch of 32 images is a **forward pass**, a **loss**, a **backward pass** "
    "that gives every layer its gradient, and an **update**. " + topic.HEADLINE_CLAIM.text
)
with present.folded("The four stages as formulas"):
    st.latex(r"\text{forward:}\quad z_\ell = h_{\ell-1} W_\ell + b_\ell, \quad h_\ell = \phi(z_\ell)")
    st.latex(r"\text{loss:}\quad \mathcal{L} = -\tfrac{1}{32} \textstyle\sum_{i} \log \hat{p}^{(i)}_{y^{(i)}}")
    st.latex(r"\text{backward:}\quad \delta_\ell = \big(\delta_{\ell+1} W_{\ell+1}^\top\big) \odot \phi'(z_\ell)")
    st.latex(r"\tfrac{\partial \mathcal{L}}{\partial W_\ell} = h_{\ell-1}^\top \delta_\ell, \qquad"
             r"\tfrac{\partial \mathcal{L}}{\partial b_\ell} = \textstyle\sum_i \delta^{(i)}_\ell")
    st.latex(r"\text{update:}\quad W_\ell \leftarrow W_\ell - \eta \, "
             r"\tfrac{\partial \mathcal{L}}{\partial W_\ell}")
    st.caption("h₀ is the image scaled to [0, 1]; δℓ = ∂L/∂zℓ is the error signal at layer ℓ; at the output, "
               "softmax with cross-entropy gives δ = (p̂ − y) / 32.")


with st.form("backprop_form"):
    learning_rate = st.select_slider("Learning rate η", list(topic.SWEEP_RATES), value=0.01,
                                     key="backprop_learning_rate", bind="query-params")
    with present.more_settings("Batch and initial weights"):
        left, right = st.columns(2)
        batch_seed = left.number_input("Batch (seed)", 0, 9_999, 0, key="backprop_batch_seed", bind="query-params",
                                       help="Which 32 training images; equal seeds give equal batches.")
        model_seed = right.number_input("Initial weights (seed)", 0, 9_999, 42, key="backprop_model_seed",
                                        bind="query-params")
    submitted = st.form_submit_button("Run one step", type="primary", key="backprop_submit")

preset_run = presets.run_requested()
if submitted or preset_run:
    dataset = get_dataset("fashion_mnist")
    st.session_state[RESULT_KEY] = _backprop_step(dataset, dataset.name, float(learning_rate), int(batch_seed),
                                                  int(model_seed))

result = stored_result(RESULT_KEY, "Press **Run one step**: a fresh lecture model (Glorot weights, zero biases) "
                                   "takes one SGD step on 32 training images, in well under a second.")
if result is not None:
    _show_result(result, trained=bool(submitted or preset_run))

"""Loss functions: what a loss rewards decides what the model learns.

Teaching point: MSE squares errors, so a few outliers pull its fit far more
than MAE's; cross-entropy is -log of the probability given to the true class;
entropy in bits is low for skewed distributions and high for balanced ones;
Keras's sparse, categorical and binary cross-entropy agree exactly when they
describe the same problem; and any Python function of (y_true, y_pred) is a loss.
"""

import streamlit as st

from lab.claims import markdown_list
from lab.data import CLASS_NAMES
from lab.topics import losses
from ui import present, presets
from ui.common import get_dataset, show_keras_code, stored_result
from ui.service import compute
from ui.live import train_live

REGRESSION_KEY = "loss_regression"
AGREEMENT_KEY = "loss_agreement"
CUSTOM_KEY = "loss_custom"
CLASSES = 4
ENTROPY_PRESETS = {"skewed": [97, 1, 1, 1], "balanced": [25, 25, 25, 25]}
# Numbers as plain as Python writes them ("2", "0.5", "3000"): what a select slider shows is also what
# a shared link carries, so a lecturer can type ?loss_delta=0.5.
PLAIN_NUMBER = "{:g}".format
RESULT_HEIGHT = 400  # the fitted lines' height on a projector: with their two slopes they fit 1280x720


@st.cache_data(max_entries=16, show_spinner=False)
def regression_fits(_dataset, outliers: int) -> dict:
    # Identical requests (every student opening the same link) are fitted once per server. The dataset
    # is the one shared Fashion-MNIST; its name is not hashed (the leading underscore).
    clean = losses.brightness_data(_dataset)
    data = losses.add_outliers(clean, outliers)
    return {"outliers": outliers, "data": data, "fits": compute(losses.fit_all, data),
            "clean_fits": compute(losses.fit_all, clean)}


@st.cache_data(max_entries=16, show_spinner=False)
def custom_fits(_dataset, delta: float, outliers: int) -> dict:
    # As above: one fit per distinct (delta, outliers) per server.
    return {"delta": delta, "outliers": outliers, **compute(losses.custom_loss_training, _dataset, delta, outliers)}


# A lecture preset asks once, on the run that opens it, for sections 1 and 5 (the line fits) to run;
# the small network of section 4 trains only from its own button.
preset_run = presets.run_requested()

st.title("Loss functions")
result_area = present.ResultArea("loss_result_area")  # on a projector the two fitted lines come first
st.markdown(
    f"**Claim.** {losses.HEADLINE.text} For classification, cross-entropy charges -log of the probability the "
    "model gave the right class."
)
# One formula per cell: two to a row did not fit a half-width column and cut off H(p) and MAE's closing bar.
FORMULA_ROWS = (
    (r"\text{MSE} = \frac1n \sum_i (y_i - \hat y_i)^2", r"\text{MAE} = \frac1n \sum_i \lvert y_i - \hat y_i\rvert"),
    (r"\text{CE}(y, \hat p) = -\sum_k y_k \ln \hat p_k", r"H(p) = -\sum_k p_k \log_2 p_k"),
)
with present.folded("The formulas"):
    for formulas in FORMULA_ROWS:
        for column, formula in zip(st.columns(2), formulas):
            column.latex(formula)

# ----------------------------------------------------------------------
st.header("1. MSE against MAE with outliers")
st.markdown("200 real Fashion-MNIST images: predict an image's **mean brightness** from the **share of its pixels "
            "with ink**. The outlier slider corrupts the targets of the faintest images to pure white (1.0), as a "
            "broken scanner might. A one-unit Keras model (a line) is fitted with each loss.")
with st.form("loss_regression_form"):
    outliers = st.slider("Outliers (corrupted targets out of 200)", 0, 40, 10, key="loss_outliers",
                         bind="query-params")
    fit = st.form_submit_button("Fit MSE and MAE", type="primary", key="loss_fit")

if fit or preset_run:
    dataset = get_dataset("fashion_mnist")
    with st.spinner("Fitting the lines with Keras..."):
        st.session_state[REGRESSION_KEY] = regression_fits(dataset, outliers)

regression = stored_result(REGRESSION_KEY, "Press **Fit MSE and MAE** (a few seconds): with the default 10 "
                                          "outliers, 5% of the points.")
if regression is not None:
    fits, clean_fits = regression["fits"], regression["clean_fits"]
    with result_area.head(bool(fit or preset_run)):
        present.chart(losses.regression_figure(regression["data"], fits, clean_fits), key="loss_regression_chart",
                      projector_height=RESULT_HEIGHT)
        columns = st.columns(2)
        for column, name in zip(columns, ("mse", "mae")):
            change = fits[name].slope - clean_fits[name].slope
            column.metric(f"{losses.LOSS_LABELS[name]} slope", f"{fits[name].slope:.3f}",
                          f"{change:+.3f} from the outliers", delta_color="off")
    mse_move = abs(fits["mse"].slope - clean_fits["mse"].slope)
    mae_move = abs(fits["mae"].slope - clean_fits["mae"].slope)
    st.info(
        f"**What to notice.** With {regression['outliers']} outliers the MSE slope moved by {mse_move:.3f} and the "
        f"MAE slope by {mae_move:.3f}. A squared error of 0.8 weighs as much as 64 errors of 0.1; MAE's pull from "
        "each point is the same whatever its distance."
    )
    claims = losses.REGRESSION_TRY_CLAIMS
    if regression["outliers"] == losses.DEFAULT_OUTLIERS:
        claims = losses.REGRESSION_CLAIMS + claims
    st.markdown("Measured and checked on every test run:\n\n" + markdown_list(claims))
    with st.expander("Show Keras code"):
        st.code(losses.regression_code(regression["outliers"], 0.05), language="python")

# ----------------------------------------------------------------------
st.header("2. The cross-entropy calculator")
st.markdown("Drag the model's predicted weights for four classes (they are normalised to probabilities) and pick "
            "the true class. The value is `keras.losses.CategoricalCrossentropy` of the one-hot target.")
first, second = st.columns([1, 2])
with first:
    # Plain class numbers as options, so a shared link reads ?loss_ce_target=1.
    true_class = st.selectbox("True class", options=list(range(CLASSES)), key="loss_ce_target", bind="query-params")
    weights = [st.slider(f"Weight of class {i}", 0, 100, value, key=f"loss_ce_w{i}", bind="query-params")
               for i, value in enumerate([70, 10, 10, 10])]
try:
    probabilities = losses.normalise(weights)
except ValueError as error:
    st.warning(f"{error}; using equal weights instead.")
    probabilities = losses.normalise([1] * CLASSES)
ce = compute(losses.cross_entropy, probabilities, true_class, quick=True)
with second:
    st.metric("Cross-entropy (nats)", f"{ce:.4f}",
              help="Equal to -ln p(true class); Keras clips p at 1e-7, so the largest value is about 16.1.")
    st.caption(f"p(true class) = {probabilities[true_class]:.3f}, -ln p = {ce:.4f} nats = {ce / 0.6931471805599453:.4f} bits")
    present.chart(losses.distribution_figure(probabilities, true_class), key="loss_ce_bars")
present.chart(losses.cross_entropy_curve_figure(float(probabilities[true_class])), key="loss_ce_curve")
st.info("**What to notice.** Only the probability of the true class counts, not how the rest is spread over the "
        "other classes: weights 70, 30, 0, 0 cost exactly as much as 70, 10, 10, 10. Near p = 1 a confident right "
        "answer costs almost nothing; near p = 0 a confident wrong answer costs more and more without limit.")

# ----------------------------------------------------------------------
st.header("3. Entropy in bits")
st.markdown("How many yes/no questions, on average, to learn the outcome: 0 bits when one class is certain, "
            f"log\u2082 {CLASSES} = 2 bits when all {CLASSES} are equally likely.")


def _set_entropy_preset(name: str) -> None:
    # Runs before the sliders are drawn, so it can set their values.
    for i, value in enumerate(ENTROPY_PRESETS[name]):
        st.session_state[f"loss_entropy_w{i}"] = value


preset_columns = st.columns([1, 1, 4])
preset_columns[0].button("Skewed", on_click=_set_entropy_preset, args=("skewed",), key="loss_entropy_skewed")
preset_columns[1].button("Balanced", on_click=_set_entropy_preset, args=("balanced",), key="loss_entropy_balanced")
first, second = st.columns([1, 2])
with first:
    entropy_weights = [st.slider(f"Weight of outcome {i}", 0, 100, value, key=f"loss_entropy_w{i}",
                                 bind="query-params")
                       for i, value in enumerate(ENTROPY_PRESETS["skewed"])]
try:
    distribution = losses.normalise(entropy_weights)
except ValueError as error:
    st.warning(f"{error}; using equal weights instead.")
    distribution = losses.normalise([1] * CLASSES)
bits = losses.entropy_bits(distribution)
with second:
    st.metric("Entropy", f"{bits:.3f} bits")
    st.caption(f"The most {CLASSES} outcomes can have is log₂ {CLASSES} = "
               f"{losses.entropy_bits([1 / CLASSES] * CLASSES):.0f} bits.")
    present.chart(losses.distribution_figure(distribution, None, "Distribution",
                                             [f"outcome {i}" for i in range(CLASSES)], x_title="outcome"),
                  key="loss_entropy_bars")
st.info("**What to notice.** The skewed distribution is below 0.25 bits: you can almost always guess the outcome. "
        "The balanced one is exactly 2 bits, the most four outcomes can have. Cross-entropy is the same sum "
        "with the model's probabilities inside the log, so it is never below the entropy of the target.")

# ----------------------------------------------------------------------
st.header("4. Sparse, categorical and binary cross-entropy")
st.markdown("A small real model (2,000 images, one epoch) predicts the 10,000 test images; then the three Keras "
            "losses score the same predictions.")
names = CLASS_NAMES["fashion_mnist"]
# Plain text options ("Sneaker vs Ankle boot"), so a shared link carries exactly what the box shows.
PAIRS = {f"{names[first]} vs {names[second]}": (first, second) for first, second in [(7, 9), (0, 6), (2, 4), (5, 7)]}
with st.form("loss_agreement_form"):
    with present.more_settings():
        pair_label = st.selectbox("Two classes for the binary case", options=list(PAIRS), key="loss_pair",
                                  bind="query-params")
    pair = PAIRS[pair_label]
    compare = st.form_submit_button("Train a small model and compare the losses", type="primary",
                                    key="loss_agreement_run")

if compare:
    config = losses.agreement_config()
    dataset = get_dataset(config.dataset)
    result = train_live(config)
    st.session_state[AGREEMENT_KEY] = {
        "config": config, "pair": pair,
        "values": compute(losses.crossentropy_agreement, result.test_probabilities, dataset.y_test, pair, quick=True),
    }

agreement = stored_result(AGREEMENT_KEY, "Press **Train a small model and compare the losses** (a few seconds).")
if agreement is not None:
    values = agreement["values"]
    st.table(losses.agreement_table(values, names, agreement["pair"]).style.hide(axis="index").format(
        {"value": "{:.6f}"}))
    st.info(
        f"**What to notice.** Sparse and categorical cross-entropy are the same number ({values['sparse']:.6f}): "
        "integer labels are just a shorter way to write one-hot targets. Binary cross-entropy on the ten one-hot "
        f"columns is a different number ({values['binary_on_ten']:.6f}): it treats each class as its own yes/no "
        "question and averages the ten. With **two** classes and one output p, binary cross-entropy of p equals "
        "categorical cross-entropy of [1 - p, p]: that is when they should agree, and they do."
    )
    show_keras_code(agreement["config"])

# ----------------------------------------------------------------------
st.header("5. A custom loss")
st.markdown("A loss is any function of `(y_true, y_pred)` that returns a number Keras can differentiate. This one "
            "is the project's own Huber loss, written with `keras.ops`: squared for small errors, like MSE, and "
            "linear for large ones, like MAE. Below, it trains a one-unit Keras model on the outlier data from section 1.")
st.code(losses.custom_loss_source(), language="python")
with st.form("loss_custom_form"):
    delta = st.select_slider("delta (where squared turns linear)", options=[0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
                             value=0.05, key="loss_delta", format_func=PLAIN_NUMBER, bind="query-params")
    with present.more_settings():
        custom_outliers = st.slider("Outliers", 0, 40, 10, key="loss_custom_outliers", bind="query-params")
    train_custom = st.form_submit_button("Train with the custom loss", type="primary", key="loss_custom_run")

if train_custom or preset_run:
    dataset = get_dataset("fashion_mnist")
    with st.spinner("Fitting with MSE, MAE and the custom loss..."):
        st.session_state[CUSTOM_KEY] = custom_fits(dataset, delta, custom_outliers)

custom = stored_result(CUSTOM_KEY, "Press **Train with the custom loss** (a few seconds).")
if custom is not None:
    fits = custom["fits"]
    present.chart(losses.regression_figure(custom["data"], fits), key="loss_custom_chart")
    st.table(losses.fits_table(fits).style.hide(axis="index").format({"slope": "{:.3f}", "intercept": "{:.3f}"}))
    st.info(
        f"**What to notice.** With delta = {custom['delta']:g}, errors above {custom['delta']:g} count linearly, "
        f"like MAE, and smaller ones squared, like MSE. Slopes here: custom {fits['custom'].slope:.3f}, MAE "
        f"{fits['mae'].slope:.3f}, MSE {fits['mse'].slope:.3f}."
    )
    claims = losses.CUSTOM_TRY_CLAIMS
    if (custom["delta"], custom["outliers"]) == (losses.DEFAULT_DELTA, losses.DEFAULT_OUTLIERS):
        claims = losses.CUSTOM_CLAIMS + claims
    st.markdown("Measured and checked on every test run:\n\n" + markdown_list(claims))
    with st.expander("Show Keras code"):
        st.code(losses.regression_code(custom["outliers"], custom["delta"]), language="python")

"""Train, validation, test: what each split is for, overfitting, early stopping, and test-set honesty.

Teaching point: train on the training set, choose with the validation set and
look at the test set once. A small training set overfits (train and validation
accuracy drift apart); early stopping on validation loss, with patience and the
best weights restored, ends the run near its best; choosing on the test set
makes the reported accuracy optimistic. The outcomes the page states are
lab.topics.splits.CLAIMS, shown as measured at the defaults; other settings get
their own measured numbers in neutral words.
"""

import streamlit as st

from lab.claims import markdown_list
from lab.topics import splits as topic
from ui import present, presets
from ui.common import get_dataset, show_keras_code, stored_result
from ui.service import compute

FIT_KEY = "splits_fit_result"
SELECTION_KEY = "splits_selection_result"
RESULT_HEIGHT = 380  # the overfitting curves' height on a projector: with the four numbers they fit 1280x720


@st.cache_data(max_entries=16, show_spinner="Training twice: all epochs, then with early stopping...")
def _fits(_dataset, dataset_name: str, train_size: int, epochs: int, patience: int):
    # Deterministic for its arguments, so a lecture preset trains once per server.
    return compute(topic.fit_with_and_without_early_stopping, _dataset, train_size, epochs, patience)


@st.cache_data(max_entries=16, show_spinner="Training the candidates...")
def _candidates(_dataset, dataset_name: str, count: int):
    return compute(topic.train_candidates, _dataset, count, train_size=topic.CANDIDATE_TRAIN_SIZE,
                   epochs=topic.CANDIDATE_EPOCHS)

st.title("Train, validation, test")
result_area = present.ResultArea("splits_result_area")  # on a projector the overfitting run comes first
st.markdown(
    "**Claims:** the three splits must not overlap. " + topic.OVERFITTING_HEADLINE.text + " **Early stopping** "
    "watches the validation loss, waits `patience` epochs for an improvement and restores the best weights. "
    + topic.TUNING_HEADLINE.text
)
dataset = get_dataset("fashion_mnist")

# ----------------------------------------------------------------------
st.header("1. The split")
st.latex(r"\mathcal{D}_\text{train} \cap \mathcal{D}_\text{valid} = \emptyset")
st.latex(r"\mathcal{D}_\text{test} \cap \left(\mathcal{D}_\text{train} \cup \mathcal{D}_\text{valid}\right)"
         r" = \emptyset")
validation_size = st.slider("Validation images", 1_000, 20_000, 5_000, step=1_000, key="splits_validation_size",
                            bind="query-params")
with present.more_settings("More split settings"):
    left, right = st.columns(2)
    train_choice = left.select_slider("Training images", ["all the rest", 1_000, 5_000, 20_000, 40_000],
                                      value="all the rest", key="splits_train_size", bind="query-params")
    seed = right.number_input("Split seed", 0, 10_000, 42, key="splits_seed", bind="query-params")
train_size = None if train_choice == "all the rest" else int(train_choice)
if train_size is not None and train_size + validation_size > len(dataset.y_train):
    st.warning(f"{train_size:,} + {validation_size:,} is more than the {len(dataset.y_train):,} training images; "
               "using all the rest for training instead.")
    train_size = None
report = topic.split_report(dataset, train_size, int(validation_size), int(seed))
present.chart(topic.split_sizes_figure(report), key="splits_sizes")
if report.disjoint:
    st.success("No image position is in both the training and the validation split.")
else:
    st.error(f"{report.shared_indices} image positions are in both the training and the validation split.")
st.dataframe(report.overlaps, hide_index=True, key="splits_overlaps")
st.caption("Pixel-identical images: images of the second split whose 784 pixels equal those of some image in the "
           "first. " + topic.TWINS_CLAIM.text)
present.chart(topic.class_balance_figure(report), key="splits_balance")

# ----------------------------------------------------------------------
st.header("2. Overfitting and early stopping")
with present.folded("The gap and early stopping as formulas"):
    st.latex(r"\text{gap} = \text{acc}_\text{train} - \text{acc}_\text{valid}")
    st.latex(r"t^\star = \arg\min_{s \le t} L_\text{valid}(s)")
    st.latex(r"\text{stop after epoch } t \text{ when } t - t^\star = p")
    st.caption("Early stopping: t* is the best epoch so far and p the patience; at the stop the weights of "
               "epoch t* are restored.")
with st.form("splits_fit_form"):
    patience = st.slider("Early-stopping patience", 1, 10, topic.DEFAULT_PATIENCE, key="splits_fit_patience",
                         bind="query-params")
    with present.more_settings("Training settings"):
        left, right = st.columns(2)
        fit_train_size = left.select_slider("Training images", [500, 1_000, 2_000, 5_000],
                                            value=topic.CLAIM_SIZES[0], key="splits_fit_train_size",
                                            bind="query-params")
        epochs = right.slider("Epochs", 10, 60, topic.DEFAULT_EPOCHS, step=5, key="splits_fit_epochs",
                              bind="query-params")
    submitted = st.form_submit_button("Train with and without early stopping", type="primary",
                                      key="splits_fit_submit")

# A lecture preset of this page runs both experiments (each is cached, so only the first click trains).
preset_run = presets.run_requested()
if submitted or preset_run:
    st.session_state[FIT_KEY] = _fits(dataset, dataset.name, int(fit_train_size), int(epochs), int(patience))

fit = stored_result(FIT_KEY, "Press **Train with and without early stopping**: two runs of the lecture model "
                             "(Adam, batch 64), the second one with early stopping.")
if fit is not None:
    full, early = fit["full"], fit["early"]
    with result_area.head(bool(submitted or preset_run)):
        columns = st.columns(4)
        columns[0].metric("Training accuracy", f"{full.history['accuracy'][-1]:.1%}")
        columns[1].metric("Validation accuracy", f"{full.history['val_accuracy'][-1]:.1%}")
        columns[2].metric("Gap", f"{topic.generalisation_gap(full.history) * 100:.1f} points")
        columns[3].metric("Test accuracy", f"{full.test_accuracy:.1%}",
                          help="After all epochs, without early stopping.")
        # On a projector the curves follow the numbers at once and the notes go below the knob; elsewhere the
        # notes stay between them, as before.
        notes = None if present.presenting() else st.container()
        left, right = st.columns(2)
        present.chart(topic.overfitting_figure(full.history, "accuracy"), container=left, key="splits_fit_accuracy",
                      projector_height=RESULT_HEIGHT)
        present.chart(topic.overfitting_figure(full.history, "loss"), container=right, key="splits_fit_loss",
                      projector_height=RESULT_HEIGHT)
    if notes is None:
        notes = st.container()
    notes.markdown("The slides: performance is often training > validation > test, and that is acceptable if the "
                   "gap is small. " + topic.performance_order(full.history, full.test_accuracy))
    at_defaults = (full.config.train_size, full.config.epochs, early.config.early_stopping_patience) == (
        topic.CLAIM_SIZES[0], topic.DEFAULT_EPOCHS, topic.DEFAULT_PATIENCE)
    if at_defaults:
        notes.markdown("Measured at these defaults and checked by the tests:\n"
                       + markdown_list(topic.OVERFITTING_CLAIMS))

    st.subheader(f"Early stopping with patience {early.config.early_stopping_patience}")
    columns = st.columns(4)
    stopped = early.stop_epoch if early.stop_reason == "early_stopped" else "did not stop"
    columns[0].metric("Stopped after epoch", stopped)
    columns[1].metric("Weights restored from epoch", early.best_epoch if early.best_epoch else "-")
    columns[2].metric("Test loss (restored weights)", f"{early.test_loss:.3f}",
                      delta=f"{early.test_loss - full.test_loss:+.3f} vs all epochs", delta_color="inverse")
    columns[3].metric("Test accuracy (restored weights)", f"{early.test_accuracy:.1%}",
                      delta=f"{(early.test_accuracy - full.test_accuracy) * 100:+.1f} points vs all epochs")
    st.caption(early.stop_detail)

    st.subheader("Scrub the patience over the recorded history")
    scrub = st.slider("Patience", 1, 15, int(early.config.early_stopping_patience), key="splits_patience_scrub",
                      bind="query-params")
    present.chart(topic.patience_figure(full.history, scrub), key="splits_patience")
    ours = topic.early_stopping_decision(full.history["val_loss"], scrub)
    keras_decision = compute(topic.keras_early_stopping_decision, tuple(full.history["val_loss"]), scrub, quick=True)
    where = f"stops after epoch {ours.stop_epoch}" if ours.stop_epoch else "never stops within these epochs"
    agree = "agrees" if ours == keras_decision else "DISAGREES"
    st.caption(f"With patience {scrub} training {where} and restores epoch {ours.best_epoch}. "
               f"Keras's own EarlyStopping, fed the same val_loss history, {agree}.")
    st.info("**What to notice:** " + topic.fit_notice(full, early, dataset.y_test))
    if at_defaults:
        st.markdown("Measured at these defaults and checked by the tests:\n"
                    + markdown_list(topic.EARLY_STOPPING_CLAIMS))
    else:
        st.caption(f"The tested claims are about the page's defaults ({topic.CLAIM_SIZES[0]} images, "
                   f"{topic.DEFAULT_EPOCHS} epochs, patience {topic.DEFAULT_PATIENCE}); with these settings only "
                   "the measured numbers above apply.")
    show_keras_code(early.config)

# ----------------------------------------------------------------------
st.header("3. Why tuning on the test set is optimistic")
st.latex(r"\mathbb{E}\Big[\max_k \widehat{\text{acc}}_k\Big] \;\ge\; \max_k \mathbb{E}\Big[\widehat{\text{acc}}_k\Big]")
st.markdown(
    "Several candidates with **identical settings and different seeds** are trained. The test set is cut into a "
    "**tuning part**, used to pick the best candidate, and a **fresh part** never looked at. The winner's score on "
    "the tuning part is what a paper would report; the fresh part shows how good it really is. The cut is "
    "repeated 1,000 times, and the same is done for a winner picked on the validation set."
)
with st.form("splits_selection_form"):
    candidates_count = st.slider("Candidates", 2, 12, topic.DEFAULT_CANDIDATES, key="splits_candidates",
                                 bind="query-params")
    selection_submitted = st.form_submit_button("Train the candidates", type="primary",
                                                key="splits_selection_submit")
if selection_submitted or preset_run:
    st.session_state[SELECTION_KEY] = _candidates(dataset, dataset.name, int(candidates_count))

candidates = stored_result(SELECTION_KEY, f"Press **Train the candidates**: {int(candidates_count)} small runs "
                                          f"({topic.CANDIDATE_TRAIN_SIZE:,} images, {topic.CANDIDATE_EPOCHS} "
                                          "epochs each).")
if candidates is not None:
    tuning_size = st.select_slider("Test images used for choosing (tuning part)", list(topic.TUNING_SIZES),
                                   value=topic.DEFAULT_TUNING_SIZE, key="splits_tuning_size", bind="query-params")
    draws = topic.selection_draws(candidates, tuning_size)
    summary = topic.selection_summary(draws)
    present.chart(topic.candidates_figure(candidates, tuning_size), key="splits_candidates_figure")
    present.chart(topic.optimism_figure(draws), key="splits_optimism")
    st.dataframe(summary.style.format({"reported accuracy": "{:.2%}", "fresh accuracy": "{:.2%}",
                                       "mean optimism": lambda value: f"{value * 100:+.2f} points",
                                       "share of draws optimistic": "{:.0%}"}), key="splits_summary")
    st.info("**What to notice:** " + topic.selection_notice(draws))
    if len(candidates.seeds) == topic.DEFAULT_CANDIDATES:
        st.markdown(f"Measured on these {topic.DEFAULT_CANDIDATES} candidates and checked by the tests:\n"
                    + markdown_list(topic.SELECTION_CLAIMS))
    else:
        st.caption(f"The tested claims are about the page's default {topic.DEFAULT_CANDIDATES} candidates; with "
                   f"{len(candidates.seeds)} only the measured numbers above apply.")
    with st.expander("Show Keras code"):
        st.code(topic.selection_code(len(candidates.seeds), candidates.config.train_size, candidates.config.epochs,
                                     tuning_size), language="python")

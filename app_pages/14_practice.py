"""Practice: exercises that check themselves against real training runs.

Teaching point: the lecture's claims are things you can make happen. Each
exercise trains the real model (or asks a question) and a checker in
lab/topics/practice.py judges the result; progress is kept for the session.
"""

import streamlit as st

from lab.config import OPTIMIZERS
from lab.topics import practice
from ui import present, presets
from ui.common import show_keras_code
from ui.live import result_curves, train_live

PASSED_KEY = "practice_passed"
ATTEMPTS_KEY = "practice_attempts"
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
# Numbers as plain as Python writes them ("2", "0.5", "3000"): what a select slider shows is also what
# a shared link carries, so a lecturer can type ?practice_diverge_lr=3.
PLAIN_NUMBER = "{:g}".format

st.session_state.setdefault(PASSED_KEY, set())
st.session_state.setdefault(ATTEMPTS_KEY, {})
# A lecture preset asks once, on the run that opens it, for the first exercise (Make SGD diverge) to run.
preset_run = presets.run_requested()

st.title("Practice")
st.markdown("**Exercises.** Make the lecture's effects happen yourself. Every exercise runs the real model on real "
            "Fashion-MNIST and a checker reads the result; nothing is graded by hand.")
st.latex(r"\theta \leftarrow \theta - \eta\,\nabla_\theta J(\theta)")


def _record(key: str, check: practice.Check, result=None, counts: bool = True) -> None:
    """Store an attempt and mark the exercise passed (once passed, it stays passed).

    A run opened by a lecture preset is shown but does not count: the student has not done it.
    """
    st.session_state[ATTEMPTS_KEY][key] = {"check": check, "result": result, "counts": counts}
    if counts and check.passed and key not in st.session_state[PASSED_KEY]:
        st.session_state[PASSED_KEY].add(key)
        # The progress bar and the tab titles are drawn above; redraw them from session state.
        st.rerun()


def _show_attempt(key: str) -> None:
    """The verdict, the curves and the code of the last attempt at an exercise."""
    attempt = st.session_state[ATTEMPTS_KEY].get(key)
    if attempt is None:
        return
    check, result = attempt["check"], attempt["result"]
    (st.success if check.passed else st.warning)(("Passed. " if check.passed else "Not yet. ") + check.feedback)
    if not attempt.get("counts", True):
        st.caption("This run was opened by a lecture preset, so it does not count as yours: press "
                   "**Train and check** to pass the exercise yourself.")
    if result is not None:
        left, right = st.columns(2)
        present.chart(result_curves(result, "loss"), container=left,
                      key=f"practice_{key}_loss")
        present.chart(result_curves(result, "accuracy"), container=right,
                      key=f"practice_{key}_accuracy")
        show_keras_code(result.config)


def _optimizer_and_learning_rate(left, right, prefix: str):
    # Plain option values (Keras's own optimizer strings), so a shared link reads
    # ?practice_target_optimizer=adam, exactly as the box shows.
    optimizer = left.selectbox("Optimizer", options=list(OPTIMIZERS), key=f"{prefix}_optimizer", bind="query-params")
    learning_rate = right.select_slider("Learning rate", options=LEARNING_RATES, value=0.01, key=f"{prefix}_lr",
                                        format_func=PLAIN_NUMBER, bind="query-params")
    return optimizer, learning_rate


def _train(config):
    # train_live goes through the server's training queue and shows live curves.
    return train_live(config)


done, total = practice.progress(st.session_state[PASSED_KEY])
st.progress(done / total, text=f"{done} of {total} exercises passed this session")
titles = [("\u2705 " if key in st.session_state[PASSED_KEY] else "") + exercise.title
          for key, exercise in practice.EXERCISES.items()]
tabs = dict(zip(practice.EXERCISES, st.tabs(titles)))

# ----------------------------------------------------------------------
with tabs["diverge"]:
    exercise = practice.EXERCISES["diverge"]
    st.markdown(f"**Task.** {exercise.task}")
    st.caption(f"Hint: {exercise.hint} Plain SGD, 2,000 images, one epoch.")
    with st.form("practice_diverge_form"):
        learning_rate = st.select_slider("Learning rate", options=LEARNING_RATES, value=0.01, key="practice_diverge_lr", format_func=PLAIN_NUMBER,
                                         bind="query-params")
        submitted = st.form_submit_button("Train and check", type="primary", key="practice_diverge_run")
    if submitted or preset_run:
        result = _train(practice.diverge_config(learning_rate))
        _record("diverge", practice.check_diverges(result), result, counts=bool(submitted))
    _show_attempt("diverge")

with tabs["target"]:
    exercise = practice.EXERCISES["target"]
    st.markdown(f"**Task.** {exercise.task}")
    st.caption("The lecture's model, 2 epochs, 5,000 validation images. Using all 55,000 images takes about "
               "5 to 10 seconds.")
    with st.form("practice_target_form"):
        first, second = st.columns(2)
        optimizer, learning_rate = _optimizer_and_learning_rate(first, second, "practice_target")
        with present.more_settings():
            first, second = st.columns(2)
            batch_size = first.select_slider("Batch size", options=[32, 64, 128, 256, 512], value=32,
                                             key="practice_target_batch", format_func=PLAIN_NUMBER, bind="query-params")
            train_size = second.select_slider("Training images", options=[5_000, 10_000, 20_000, 55_000],
                                              value=55_000, key="practice_target_train_size", format_func=PLAIN_NUMBER, bind="query-params")
        submitted = st.form_submit_button("Train and check", type="primary", key="practice_target_run")
    if submitted:
        result = _train(practice.target_config(optimizer, learning_rate, batch_size,
                                               None if train_size == 55_000 else train_size))
        _record("target", practice.check_target_accuracy(result), result)
    _show_attempt("target")

with tabs["deep_sigmoid"]:
    exercise = practice.EXERCISES["deep_sigmoid"]
    st.markdown(f"**Task.** {exercise.task}")
    st.caption(f"Ten sigmoid layers of 64 units, 5,000 images. Hint: {exercise.hint}")
    with st.form("practice_deep_form"):
        first, second = st.columns(2)
        optimizer, learning_rate = _optimizer_and_learning_rate(first, second, "practice_deep")
        # Plain options, so a shared link reads ?practice_deep_batch_norm=before.
        batch_norm = first.radio("Batch normalisation (before or after each activation)",
                                 options=["none", "before", "after"], horizontal=True,
                                 key="practice_deep_batch_norm", bind="query-params")
        initializer = second.selectbox("Kernel initializer", options=["glorot_uniform", "he_normal", "lecun_normal",
                                                                       "random_normal"], key="practice_deep_init",
                                       bind="query-params")
        with present.more_settings():
            epochs = st.slider("Epochs", 1, practice.DEEP_MAX_EPOCHS, 2, key="practice_deep_epochs",
                               bind="query-params")
        submitted = st.form_submit_button("Train and check", type="primary", key="practice_deep_run")
    if submitted:
        result = _train(practice.deep_sigmoid_config(optimizer, learning_rate, batch_norm, initializer,
                                                     epochs=epochs))
        _record("deep_sigmoid", practice.check_deep_sigmoid(result), result)
    _show_attempt("deep_sigmoid")

with tabs["zero_init"]:
    exercise = practice.EXERCISES["zero_init"]
    st.markdown(f"**Task.** {exercise.task}")
    st.caption(f"Hint: {exercise.hint} The Initialisation page lets you see it happen.")
    with st.form("practice_zero_form"):
        # Not bound to the URL on purpose: a shared link must not carry a student's answer.
        choice = st.radio("Your answer", options=list(range(len(practice.ZERO_INIT_CHOICES))), index=None,
                          format_func=lambda i: practice.ZERO_INIT_CHOICES[i], key="practice_zero_answer")
        submitted = st.form_submit_button("Check", type="primary", key="practice_zero_run")
    if submitted:
        if choice is None:
            st.warning("Pick an answer first.")
        else:
            _record("zero_init", practice.check_zero_init_answer(choice))
    _show_attempt("zero_init")

st.info("**What to notice.** The checks read the run that actually happened: the config it trained with and "
        "the history it produced. Passing one exercise by breaking another's rules (more epochs, fewer "
        "sigmoid layers) does not count.")

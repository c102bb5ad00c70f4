"""Running `lab.training.train` from a page: the shared queue and cache, a live progress bar and charts.

`train_live` is the small version every page can use. The Training Lab's
version, `train_lab_run`, adds the learning-rate and gradient-norm charts, a
Stop button, and records every run, including one the user interrupts, in the
session's `lab.runs.RunHistory`.

Both go through `lab.admission.train_shared` and so through the training
service: the training runs in the worker process, at most OPTLAB_MAX_TRAININGS
long trainings run at once in the whole server, waiting sessions see their
place in the queue, and a configuration trained before is served from the cache.

Rerun safety: when the user presses any widget during a run, Streamlit 1.67
(with its default fastReruns) asks the running script to stop and starts the
rerun at once in a new thread. The old thread gets a StopException (a
BaseException) at its next `st.*` call or session-state access, and gets it
again at every later one, so its `finally` may not touch Streamlit at all.
The progress callback calls `st.*` several times a second, so a training is
cancelled within about 0.3 s. `train_lab_run` therefore keeps its state in a
plain `ActiveRun` object: the interrupted thread records the stopped run in
the session's RunHistory in its `finally`, and the new run waits for that
with `settle_interrupted_run` before drawing the page. Streamlit's toolbar Stop
interrupts the thread in the same way but starts no rerun; `_watch_for_toolbar_stop`
asks for that rerun, so the stopped run is shown as after the app's own Stop.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from typing import Optional

import streamlit as st

from lab.config import TrainConfig
from lab.plots import curves_figure, gradient_norms_figure, learning_rate_figure
from lab.service import RunRefused, WorkerStopped
from ui.present import chart, reveal

_chart_keys = itertools.count()

ACTIVE_KEY = "training_lab_active"  # the ActiveRun of this session's Training Lab training, if any
DETAIL_CHART_SECONDS = 0.9  # the learning-rate and gradient charts redraw at most this often
TOOLBAR_STOP_SECONDS = 1.0  # how soon the page notices that Streamlit's toolbar Stop ended a training
# The live curves' height on a projector: with the progress bar above them they fit a 1280x720 screen.
PROJECTOR_CHART_HEIGHT = 300
# On a laptop the Training Lab's form fills the first screen, so the live panel that Train opens lay below
# the fold and a student saw nothing happen. The page scrolls the panel up to just below Streamlit's header
# when it opens in the lower half of the window, and again when its first curves would end below the
# window (the page is only then long enough): ui.present.reveal, which the topic pages' results use too.
# On a projector the results come first and nothing moves.
LIVE_PANEL_KEY = "lab_live_panel"


# ----------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------
def progress_text(progress) -> str:
    """The progress bar's text, e.g. "Epoch 2/5 · step 400/1,565 · about 3 s left".

    Args:
        progress: a lab.training.TrainProgress.
    Returns:
        one line of text.
    """
    eta = progress.eta_seconds
    eta_text = f" · about {eta:.0f} s left" if eta is not None else ""
    epoch = min(progress.epoch + 1, progress.epochs)
    return f"Epoch {epoch}/{progress.epochs} · step {progress.step:,}/{progress.total_steps:,}{eta_text}"


def wait_text(info) -> str:
    """What a waiting session is told.

    Args:
        info: a lab.admission.WaitInfo.
    Returns:
        one or two sentences.
    """
    if info.kind == "identical":
        return ("Another session is training exactly these settings right now. "
                "Its result will appear here as soon as it finishes.")
    if info.kind == "warming":
        return ("Warming up: the training worker is loading TensorFlow and the data (a few seconds, "
                "once per server). Training starts automatically.")
    # Short runs have a lane of their own beside the capacity, so "3 of 2" can happen: say it plainly.
    running = f"{info.running} training{'s' if info.running != 1 else ''} running"
    return (f"The server is busy ({running}; it trains {info.capacity} at once, plus one short run). "
            f"You are number {info.position} in the queue; training starts automatically.")


SOURCE_TEXT = {
    "cache": "Served instantly: this exact configuration was trained on this server before.",
    "shared": "Served from another session that trained exactly these settings at the same time.",
}


def progress_curves(progress, metric: str):
    """The live curves of a TrainProgress, from step 0 on.

    Args:
        progress: a lab.training.TrainProgress.
        metric: "loss" or "accuracy".
    Returns:
        a Figure from lab.plots.curves_figure.
    """
    return curves_figure(progress.history, progress.step_log, metric, first_steps=progress.first_steps,
                         steps_per_epoch=progress.steps_per_epoch)


def result_curves(result, metric: str):
    """The curves of a finished run (a TrainResult or a lab.runs.RunRecord), its divergence marked.

    Args:
        result: a TrainResult or a RunRecord (both have first_steps and diverged_at).
        metric: "loss" or "accuracy".
    Returns:
        a Figure from lab.plots.curves_figure.
    """
    return curves_figure(result.history, result.step_log, metric, first_steps=result.first_steps,
                         steps_per_epoch=result.steps_per_epoch, diverged_at=result.diverged_at)


# ----------------------------------------------------------------------
# train_live: the small version for the topic pages
# ----------------------------------------------------------------------
def train_live(config: TrainConfig, should_stop=None):
    """Train with a progress bar and live loss/accuracy charts; returns the TrainResult.

    Goes through the server-wide queue and result cache, so the result may be
    shared with other sessions: treat it as read-only.

    Args:
        config: the run to train.
        should_stop: optional callable polled by the trainer.
    Returns:
        the lab.training.TrainResult; on a refused run or a worker failure the page shows
        a message and stops.
    """
    from lab.admission import train_shared
    from ui.service import session_id

    status = st.empty()
    bar = st.progress(0.0, text="Building the model and its graph...")
    left, right = st.columns(2)
    loss_slot, accuracy_slot = left.empty(), right.empty()

    def on_progress(progress) -> None:
        # Every st.* call here is also where Streamlit notices a rerun and stops us.
        status.empty()
        bar.progress(progress.fraction, text=progress_text(progress))
        for slot, metric in ((loss_slot, "loss"), (accuracy_slot, "accuracy")):
            chart(container=slot, figure=progress_curves(progress, metric), key=f"live_{metric}_{next(_chart_keys)}")

    try:
        served = train_shared(config, on_progress=on_progress, should_stop=should_stop, owner=session_id(),
                              on_wait=lambda info: status.info(wait_text(info), icon=":material/hourglass_top:"))
    except (RunRefused, WorkerStopped) as error:
        status.empty()
        bar.empty()
        st.error(str(error), icon=":material/error:")
        st.stop()
    status.empty()
    bar.progress(1.0, text=f"Done: {served.result.stop_detail} {SOURCE_TEXT.get(served.source, '')}")
    loss_slot.empty()
    accuracy_slot.empty()
    return served.result


# ----------------------------------------------------------------------
# The Training Lab's live panel
# ----------------------------------------------------------------------
class LivePanel:
    """The Training Lab's live view: queue line, Stop button, progress bar and four charts."""

    def __init__(self, config: TrainConfig, stop_key: str = "lab_stop"):
        self.config = config
        self.slot = st.empty()
        box = self.slot.container(border=True, key=LIVE_PANEL_KEY)
        head, stop = box.columns([5, 1], vertical_alignment="center")
        self.status = head.empty()
        self.status.markdown(f"**Training** {_config_summary(config)}")
        # Pressing Stop reruns the script, which interrupts this run; the finally keeps it.
        stop.button("Stop", key=stop_key, icon=":material/stop_circle:", width="stretch",
                    help="Stop now and keep what has been trained so far as a run marked 'stopped'.")
        self.bar = box.progress(0.0, text="Building the model and its graph...")
        top, bottom = box.columns(2), box.columns(2)
        self.loss, self.accuracy = top[0].empty(), top[1].empty()
        self.learning_rate, self.gradients = bottom[0].empty(), bottom[1].empty()
        self.clipping = box.empty()
        # The panel is revealed now and once more with the first curves: a script runs when its element
        # is added, so each time in a slot of its own.
        reveal(LIVE_PANEL_KEY, wait_for_chart=False, container=box)
        self.scroll_with_curves = box.empty()
        self.last_detail = -math.inf
        self.drawn_steps = -1
        self.waited = False

    def wait(self, info) -> None:
        """Show the queue position (an st.* call, so a rerun can interrupt the wait).

        Args:
            info: a lab.admission.WaitInfo.
        """
        self.waited = True
        self.status.info(wait_text(info), icon=":material/hourglass_top:")

    def show(self, progress) -> None:
        """Redraw from a TrainProgress: the bar always, the curves when new steps arrived.

        Args:
            progress: a lab.training.TrainProgress.
        """
        if self.waited:
            self.waited = False
            self.status.markdown(f"**Training** {_config_summary(self.config)}")
        self.bar.progress(progress.fraction, text=progress_text(progress))
        if progress.step == self.drawn_steps:
            return
        first_curves = self.drawn_steps < 0
        self.drawn_steps = progress.step
        for slot, metric in ((self.loss, "loss"), (self.accuracy, "accuracy")):
            chart(container=slot, figure=progress_curves(progress, metric), key=f"lab_live_{metric}_{next(_chart_keys)}",
                  projector_height=PROJECTOR_CHART_HEIGHT)
        if first_curves:  # the curves give the page the length to scroll the panel up
            reveal(LIVE_PANEL_KEY, container=self.scroll_with_curves)
        now = time.perf_counter()
        if progress.step_log and (now - self.last_detail >= DETAIL_CHART_SECONDS or progress.fraction >= 1):
            self.last_detail = now
            self._draw_details(progress)

    def _draw_details(self, progress) -> None:
        clipped = self.config.clip != "none"
        chart(container=self.learning_rate, figure=learning_rate_figure(progress.step_log),
                                        key=f"lab_live_lr_{next(_chart_keys)}")
        chart(container=self.gradients, figure=gradient_norms_figure(progress.step_log, progress.layer_names, clipped),
                                    key=f"lab_live_grad_{next(_chart_keys)}")
        if clipped:
            share = sum(bool(entry.get("clipped")) for entry in progress.step_log) / len(progress.step_log)
            self.clipping.caption(f"Clipping changed the gradient at {share:.0%} of the logged steps so far.")

    def clear(self) -> None:
        """Remove the panel once the run is recorded."""
        self.slot.empty()


def _config_summary(config: TrainConfig) -> str:
    from lab.runs import short_settings

    images = f"{config.train_size:,}" if config.train_size else "all"
    return f"{short_settings(config)} · {images} images · {config.epochs} epochs · seed {config.seed}"


class ActiveRun:
    """One Training Lab training, shared by the thread that runs it and the rerun that interrupts it.

    Plain Python on purpose: after Streamlit stops a run, every st.* call and
    session-state access in that thread raises again, so the thread reports
    through this object instead.
    """

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.progress = None  # the latest TrainProgress; a stopped run keeps its curves
        self.record = None  # the RunRecord once the run ended, however it ended
        self.cancel = threading.Event()  # set by the interrupting rerun: stop at the next chunk
        self.done = threading.Event()  # set when the record is in the session's RunHistory


def train_lab_run(config: TrainConfig, dataset, runs, note: str = "", ab_of: Optional[int] = None):
    """Train for the Training Lab with the live panel and keep the run in `runs`, even when interrupted.

    Args:
        config: the run's settings.
        dataset: the shared Dataset.
        runs: the session's lab.runs.RunHistory.
        note: text kept with the run (e.g. the A/B change).
        ab_of: the run this one is the same-seed B of.
    Returns:
        the new RunRecord, or None when the run failed before training a step.
    """
    from lab.admission import train_shared
    from lab.runs import record_from_progress, record_from_result
    from ui.service import session_id, warm_start

    try:
        # Refused before a run number is taken, so a refusal leaves no gap in the numbering.
        warm_start().check_budget(config)
    except RunRefused as error:
        st.error(str(error), icon=":material/timer_off:")
        return None
    panel = LivePanel(config)
    active = ActiveRun(runs.new_id())
    st.session_state[ACTIVE_KEY] = active
    _watch_for_toolbar_stop()

    def on_progress(progress) -> None:
        active.progress = progress  # before any st.* call, which may raise Streamlit's stop signal
        if not active.cancel.is_set():
            panel.show(progress)

    try:
        served = train_shared(config, on_progress=on_progress, should_stop=active.cancel.is_set,
                              on_wait=panel.wait, owner=session_id())
        active.record = record_from_result(served.result, active.run_id, dataset.y_test, source=served.source,
                                           note=note, ab_of=ab_of)
    except (RunRefused, WorkerStopped) as error:  # messages written for students, shown as they are
        st.error(str(error), icon=":material/error:")
    except Exception as error:  # a real failure (not Streamlit's stop signal): a message, not a traceback
        st.error(f"Training failed: {error}")
    finally:
        # No st.* and no session state in here: see the module docstring.
        if active.record is None and active.progress is not None and active.progress.step > 0:
            active.record = record_from_progress(active.progress, config, active.run_id, note=note, ab_of=ab_of)
        if active.record is not None:
            runs.add(active.record)
        active.done.set()
    # Only an uninterrupted run gets here.
    del st.session_state[ACTIVE_KEY]
    panel.clear()
    return active.record


@st.fragment(run_every=TOOLBAR_STOP_SECONDS)
def _watch_for_toolbar_stop() -> None:
    """Rerun the page once this session's training has ended, so a toolbar Stop shows the stopped run.

    Streamlit's toolbar Stop ends the script with no rerun: the training's `finally` keeps the
    run, but the page would stay frozen on the live panel. The browser keeps asking for this
    fragment every TOOLBAR_STOP_SECONDS until the next full run; a tick that arrives while the
    page's script runs waits for it to end (it does not interrupt the training). Once no
    training is active, or the active one has been recorded, one full rerun draws the result
    (settle_interrupted_run shows a stopped run) and ends the browser's timer. settle_interrupted_run
    starts the same watch when an interrupted run is still being tested after its wait.
    """
    active = st.session_state.get(ACTIVE_KEY)
    if active is None or active.done.is_set():
        st.rerun(scope="app")


def settle_interrupted_run(max_seconds: float = 10.0):
    """At the top of the Training Lab: wait until a training this rerun interrupted has been recorded.

    Args:
        max_seconds: the longest wait (the old thread normally finishes within half a second).
    Returns:
        the interrupted run's RunRecord (status "stopped"), or None when there was none.
    """
    active = st.session_state.get(ACTIVE_KEY)
    if active is None:
        return None
    active.cancel.set()  # the old run stops at its next chunk and tests the model trained so far
    deadline = time.monotonic() + max_seconds
    if not active.done.is_set():
        with st.spinner("Stopping the previous training and keeping what it trained..."):
            while not active.done.wait(0.05) and time.monotonic() < deadline:
                st.session_state.get(ACTIVE_KEY)  # a yield point, so a further rerun is not held up
    if not active.done.is_set():
        # Still unwinding (a loaded worker may take longer to test what it trained): say so, and let the
        # toolbar-Stop watch rerun the page once the run is recorded, so the notice comes without a click.
        st.info("The previous training is still stopping; its run will appear here in a moment.",
                icon=":material/hourglass_top:")
        _watch_for_toolbar_stop()
        return None
    del st.session_state[ACTIVE_KEY]
    return active.record

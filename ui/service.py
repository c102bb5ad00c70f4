"""The pages' door to the training service: every Keras computation goes through here.

`compute` runs a lab function in the worker process (lab.service) on behalf of
this browser session, and turns the service's failures into messages a
student can act on instead of tracebacks. `warm_start` is called by app.py on
every script run, so the worker starts (and warms up) with the first visit.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Optional

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lab.service import RunRefused, TrainingService, WorkerStopped, get_service

# Set while a page asks its st.cache_data functions for results they already hold: compute then
# refuses to run anything, so opening a page never trains (see `cached_only`).
_CACHED_ONLY = threading.local()


class NotComputed(Exception):
    """Raised by `compute` inside `cached_only`: the result is not cached, and nothing may run."""


def session_id() -> Optional[str]:
    """This browser session's id, which the service uses to keep one training per session.

    Returns:
        the id, or None outside a Streamlit script run.
    """
    context = get_script_run_ctx()
    return None if context is None else context.session_id


def warm_start() -> TrainingService:
    """The server's training service, started with its warm-up on the first call.

    Returns:
        the shared TrainingService.
    """
    return get_service()


def compute(task: Callable, *args, quick: bool = False, **kwargs):
    """Run `task(*args, **kwargs)` in the worker: in a training slot, or at once when `quick`.

    Args:
        task: a top-level lab function.
        *args: its arguments (a shared Dataset is sent by name).
        quick: a computation of milliseconds that must not wait behind trainings.
        **kwargs: its keyword arguments.
    Returns:
        what the task returned; on a worker failure the page shows a message and stops.
    """
    if getattr(_CACHED_ONLY, "active", False):
        raise NotComputed(task.__name__)  # st.cache_data stores no exception, so the next press computes
    try:
        return get_service().run(task, *args, kind="quick" if quick else "train", owner=session_id(), **kwargs)
    except (WorkerStopped, RunRefused) as error:
        st.error(str(error), icon=":material/error:")
        st.stop()


@contextmanager
def _cached_only():
    _CACHED_ONLY.active = True
    try:
        yield
    finally:
        _CACHED_ONLY.active = False


def cached_only(function: Callable, *args, **kwargs):
    """What a page's st.cache_data `function` returns for these arguments if it already holds it, else None.

    A shared link or a page's defaults whose experiment anyone on this server has already run show
    their result at once; anything else waits for its button, because `compute` refuses to run here.

    Args:
        function: an st.cache_data function whose work goes through `compute`.
        *args: its arguments.
        **kwargs: its keyword arguments.
    Returns:
        the cached value, or None when it would have to be computed.
    """
    with _cached_only():
        try:
            return function(*args, **kwargs)
        except NotComputed:
            return None


def keep_cached(key: str, function: Callable, *args, **kwargs) -> None:
    """Until the session has a result under `key`, put there what `function` already holds for these arguments.

    A page calls this where its button would compute: a link (or the defaults) of an experiment this
    server has run shows its result at once, and nothing else runs until the button is pressed.

    Args:
        key: the session-state key of the page's result.
        function: an st.cache_data function whose work goes through `compute`.
        *args: its arguments.
        **kwargs: its keyword arguments.
    """
    if st.session_state.get(key) is not None:
        return
    value = cached_only(function, *args, **kwargs)
    if value is not None:
        st.session_state[key] = value

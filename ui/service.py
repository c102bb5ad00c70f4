"""The pages' door to the training service: every Keras computation goes through here.

`compute` runs a lab function in the worker process (lab.service) on behalf of
this browser session, and turns the service's failures into messages a
student can act on instead of tracebacks. `warm_start` is called by app.py on
every script run, so the worker starts (and warms up) with the first visit.
"""

from __future__ import annotations

from typing import Callable, Optional

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lab.service import RunRefused, TrainingService, WorkerStopped, get_service


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
    try:
        return get_service().run(task, *args, kind="quick" if quick else "train", owner=session_id(), **kwargs)
    except (WorkerStopped, RunRefused) as error:
        st.error(str(error), icon=":material/error:")
        st.stop()

"""The training worker: the one process where Keras and TensorFlow run.

`lab.service.TrainingService` starts this module's `main` in a process of the
`spawn` context and talks to it over a pipe. Every job runs in its own thread
here, so two trainings and any number of quick computations share the traced
graphs of one TensorFlow runtime. The messages are small tuples:

from the server          to the server
("run", id, payload)     ("ready", info)             once, after the warm-up (or its data error)
("cancel", id)           ("calibrated", info)        once, if the step-time probe waited for a job
("stop",)                ("progress", id, progress)  a few times a second
                         ("done", id, result) / ("error", id, exception)

The payload is pickled by the server and unpickled in the job's thread, so a
task that cannot be imported fails that job with a message instead of the
whole worker. Only the server's own messages are ever unpickled here.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from typing import Callable, Optional

from lab.config import TrainConfig
from lab.cost import seconds_per_unit_of
from lab.data import DataError, shared_dataset

# The lecture's default run, traced while the worker warms up so that the first
# Train press of the day finds its graph ready.
WARM_CONFIG = TrainConfig(train_size=10_000, epochs=5)
WARM_IMAGES = 2_000  # images of the warm-up runs: enough to time a step, quick to train
PROBE_CONFIG = TrainConfig(**{**WARM_CONFIG.to_dict(), "train_size": WARM_IMAGES, "epochs": 1})
CALIBRATE_WHEN_IDLE_SECONDS = 1.0  # a deferred step-time probe runs after this long without a job


def main(connection, warm: bool = True) -> None:
    """Serve jobs from `connection` until told to stop or the server goes away.

    Args:
        connection: this end of the service's pipe.
        warm: import TensorFlow, load the data and trace the default engine before "ready".
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter is no use to a lecturer
    send_lock = threading.Lock()

    def send(message) -> None:
        with send_lock:
            connection.send(message)

    try:
        info = warm_up() if warm else {}
    except DataError as error:
        # No data here (no folder, no internet). A new worker would fail the same way, and the service
        # started one every few seconds, each importing TensorFlow: this one says why once and serves on,
        # each job reporting the data message (the pages show it too, from their own copy of the data).
        info, warm = {"warm_error": str(error)}, False
    # The step-time probe (about 0.3 s on a quiet machine, seconds on a busy one) waits when a job
    # is already queued: the first Train press of a server is served first, and the worker
    # calibrates in its first idle moment instead (the service estimates with a default until then).
    calibrated = not warm or not connection.poll(0)
    if warm and calibrated:
        info.update(calibrate())
    send(("ready", info))
    cancels: dict[int, threading.Event] = {}
    while True:
        if not calibrated and not connection.poll(CALIBRATE_WHEN_IDLE_SECONDS):
            if not cancels:  # no job runs, and none came for a while: the probe cannot delay anyone's run
                calibrated = True
                send(("calibrated", calibrate()))
            continue
        try:
            message = connection.recv()
        except (EOFError, OSError):
            break  # the server is gone: nobody is left to serve
        if message[0] == "stop":
            break
        if message[0] == "cancel":
            event = cancels.get(message[1])
            if event is not None:
                event.set()
        elif message[0] == "run":
            job_id, payload = message[1], message[2]
            cancels[job_id] = threading.Event()
            threading.Thread(target=_run_job, args=(job_id, payload, cancels, send),
                             name=f"job-{job_id}", daemon=True).start()
    connection.close()


def _run_job(job_id: int, payload: bytes, cancels: dict, send: Callable) -> None:
    """Run one job and send its result or its error; never raise."""
    cancel = cancels[job_id]
    try:
        task, args, kwargs, wants_progress = pickle.loads(payload)
        if wants_progress:
            kwargs = {**kwargs, "on_progress": lambda progress: send(("progress", job_id, progress)),
                      "should_stop": cancel.is_set}
        result = task(*args, **kwargs)
        message = ("done", job_id, result)
    except Exception as error:  # the server shows it as a message; the worker carries on
        message = ("error", job_id, _portable(error))
    finally:
        cancels.pop(job_id, None)
    try:
        send(message)
    except Exception as error:  # a result that does not pickle is that job's error, not the worker's end
        send(("error", job_id, RuntimeError(f"the result could not be sent back: {error}")))


def _portable(error: Exception) -> Exception:
    """The error itself when it pickles (ValueError stays ValueError), else its text."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def warm_up() -> dict:
    """Import TensorFlow, load the data and trace the default engine.

    Returns:
        dict with seconds (the warm-up's length).
    """
    started = time.perf_counter()
    # The data first, then TensorFlow, one after the other: reading the data in a thread while
    # TensorFlow imported made Python 3.11's import locks report a deadlock (_DeadlockError in
    # `import tensorflow`) on a busy machine, and the worker died before it was ever ready, again
    # and again (seven replacements in two minutes, no job served).
    dataset = shared_dataset(WARM_CONFIG.dataset)
    import tensorflow as tf

    from lab import training

    # Engines are reused across runs, so "retracing" warnings are expected here and
    # would only alarm a lecturer reading the server's console.
    tf.get_logger().setLevel(logging.ERROR)
    training.train(PROBE_CONFIG, dataset)  # traces the default engine
    return {"seconds": time.perf_counter() - started}


def calibrate() -> dict:
    """Time the traced default engine's steps, for the service's cost estimates; run after warm_up.

    Returns:
        dict with seconds_per_unit: one step's time per parameter x image.
    """
    from lab import training

    dataset = shared_dataset(PROBE_CONFIG.dataset)
    timed = training.train(PROBE_CONFIG, dataset)  # a traced run: its time is the step cost
    return {"seconds_per_unit": seconds_per_unit_of(PROBE_CONFIG, timed.history, timed.steps_per_epoch,
                                                    dataset.num_classes, min_steps=1)}


def train_task(config: TrainConfig, budget_seconds: Optional[float] = None, on_progress=None,
               should_stop=None):
    """Train `config` on this process's shared dataset, stopping at the time budget.

    Args:
        config: the run's settings.
        budget_seconds: wall time after which the run stops and is kept as "time_budget".
        on_progress: the trainer's progress callback.
        should_stop: the trainer's cancel poll.
    Returns:
        a lab.training.TrainResult.
    """
    from lab.training import train

    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds

    def out_of_time() -> bool:
        return deadline is not None and time.monotonic() > deadline

    def stop() -> bool:
        return bool(should_stop is not None and should_stop()) or out_of_time()

    result = train(config, shared_dataset(config.dataset), on_progress=on_progress, should_stop=stop)
    if result.stop_reason == "cancelled" and out_of_time() and not (should_stop is not None and should_stop()):
        result.stop_reason = "time_budget"
        result.stop_detail = (
            f"Stopped at this server's time budget of {budget_seconds:g} s per run, at epoch "
            f"{result.stop_epoch + 1}, step {result.stop_step:,}. The test results are those of the model "
            "trained so far; fewer images or epochs fit in the budget.")
    return result


def lean_train(config: TrainConfig, dataset):
    """Train like lab.training.train, without the test probabilities, for pages that never show them.

    Args:
        config: the run's settings.
        dataset: the dataset (this process's shared copy).
    Returns:
        a TrainResult whose test_probabilities is None (each copy would carry 400 KB of them
        into the server's page caches).
    """
    import dataclasses

    from lab.training import train

    return dataclasses.replace(train(config, dataset), test_probabilities=None)


def engine_stats() -> dict:
    """The worker's engine pool counters (lab.engines), for benchmarks and tests.

    Returns:
        a dict with idle engines, idle megabytes, engines created and engines evicted.
    """
    from lab.engines import ENGINES

    return ENGINES.stats()

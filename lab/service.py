"""The training service: the one way the app reaches Keras.

Every Keras computation runs in a worker process (lab.worker), never in the
Streamlit server, so the server stays small and responsive and never loads
TensorFlow. The worker can be replaced, which is the only way to give back the
memory of the graphs TensorFlow traces (it never frees them in a process).

`TrainingService.run(task, *args, ...)` sends a top-level function and its
picklable arguments to the worker and waits for the result in the caller's own
thread, calling `on_progress` there as progress arrives (so a Streamlit page
may draw from it) and polling `should_stop`. It decides, in one place:

- **Admission.** A "train" job takes a slot: at most `max_trainings` long jobs
  at once, plus `short_lane` slots that only short runs (estimated under
  SHORT_RUN_SECONDS) may use, so that a default run never waits behind two
  long ones. Waiters are served first come, first served, and hear their
  place through `on_wait`. A "quick" job (a calculator, one optimizer step on
  a 2D surface) takes no slot and answers at once.
- **One training per session.** A new training from an owner cancels its last.
- **Memory.** After each job the worker's memory is read; above the ceiling
  (`OPTLAB_WORKER_MAX_MB`) no new job is sent to it, and once its jobs have
  finished it is replaced by a fresh worker, which receives the queued jobs.
- **Faults.** When the worker dies (killed for memory, a crash), its jobs fail with
  `WorkerStopped`, whose message tells the student what to do; a new worker starts.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import sys
import threading
import time
import types
from dataclasses import dataclass, field
from multiprocessing.connection import wait as wait_for_any
from typing import Callable, Optional

from lab.cache import int_from_env
from lab.config import TrainConfig
from lab.cost import DEFAULT_SECONDS_PER_UNIT, estimate_seconds, over_budget_message, seconds_per_unit_of

MAX_TRAININGS_ENV = "OPTLAB_MAX_TRAININGS"
WORKER_MAX_MB_ENV = "OPTLAB_WORKER_MAX_MB"
MAX_RUN_SECONDS_ENV = "OPTLAB_MAX_RUN_SECONDS"
DEFAULT_MAX_TRAININGS = 2
# A fresh worker with TensorFlow, both datasets and the default engine holds about
# 800 MB; 150 distinct graph shapes add about 6 MB each. Replacing it above 1,400 MB
# keeps the server (about 250 MB) plus a worker under Community Cloud's 2.7 GB with
# room for the replacement starting while the last runs finish.
DEFAULT_WORKER_MAX_MB = 1_400
DEFAULT_MAX_RUN_SECONDS = 30
SHORT_RUN_SECONDS = 10.0  # runs estimated below this may use the short lane
SHORT_LANE = 1
MAX_RESTART_DELAY = 30.0  # the longest pause before restarting a worker that keeps dying at start
POLL_SECONDS = 0.1  # how often a waiting caller polls should_stop and hears its place

_LOG = logging.getLogger(__name__)


class WorkerStopped(RuntimeError):
    """The worker process ended while running this job (killed for memory, or crashed)."""

    def __init__(self):
        super().__init__("The training worker stopped; your run was not finished. Press Train again.")


class Superseded(RuntimeError):
    """The same session started another training, which replaces this one."""


class RunRefused(ValueError):
    """A run whose estimated time is over the per-run budget; the message says what to reduce."""


@dataclass(frozen=True)
class WaitInfo:
    """What a waiting caller is told."""

    kind: str  # "queue" (waiting for a slot), "warming" (the worker is starting) or "identical"
    position: int  # place in the queue, 1 = next; 0 otherwise
    running: int  # trainings running now
    capacity: int  # trainings allowed at once (long ones; short runs have one more lane)


@dataclass
class _Job:
    job_id: int
    kind: str  # "train" or "quick"
    long: bool
    owner: Optional[str]
    messages: "queue.Queue" = field(default_factory=queue.Queue)
    worker: Optional["_Worker"] = None
    admitted: bool = False  # holds a training slot
    finished: bool = False
    superseded: bool = False


class _Worker:
    """One worker process, its pipe and the jobs sent to it."""

    def __init__(self, context, generation: int, warm: bool):
        from lab import worker as worker_module

        self.generation = generation
        self.connection, child = context.Pipe()
        self.process = context.Process(target=worker_module.main, args=(child, warm), daemon=True,
                                       name=f"optlab-worker-{generation}")
        with _without_main_module():
            self.process.start()
        child.close()
        self.ready = threading.Event()
        self.info: dict = {}
        self.jobs: dict[int, _Job] = {}
        self.retiring = False
        self._send_lock = threading.Lock()

    def send(self, message) -> None:
        with self._send_lock:
            self.connection.send(message)

    def memory_bytes(self) -> int:
        """Resident memory of the worker and any children it started (0 once it has gone)."""
        import psutil

        try:
            process = psutil.Process(self.process.pid)
            return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
        except psutil.Error:
            return 0


_MAIN_LOCK = threading.Lock()


@contextlib.contextmanager
def _without_main_module():
    """Start a spawned process without it re-running the script that is `__main__` now.

    A spawned child first re-imports the parent's `__main__` from its file. Streamlit runs
    every page as `__main__` (app.py, with its `warm_start()`), so the child would start the
    app, and with it another worker. The worker needs nothing from `__main__`: for the
    moment of the start, `__main__` is an empty module.
    """
    with _MAIN_LOCK:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


class TrainingService:
    """Runs tasks in a replaceable worker process, with a fair, bounded queue for trainings."""

    def __init__(self, max_trainings: int = DEFAULT_MAX_TRAININGS, short_lane: int = SHORT_LANE,
                 worker_max_mb: int = DEFAULT_WORKER_MAX_MB, max_run_seconds: float = DEFAULT_MAX_RUN_SECONDS,
                 warm: bool = True):
        if max_trainings < 1:
            raise ValueError(f"max_trainings must be at least 1, got {max_trainings}")
        self.max_trainings, self.short_lane = max_trainings, short_lane
        self.worker_max_bytes = worker_max_mb * 1024 * 1024
        self.max_run_seconds = max_run_seconds
        self.warm = warm
        self._context = multiprocessing.get_context("spawn")
        self._condition = threading.Condition()
        self._worker: Optional[_Worker] = None
        self._generations = itertools.count(1)
        self._job_ids = itertools.count(1)
        self._waiting: list[_Job] = []  # training jobs waiting for a slot, first come first
        self._running: list[_Job] = []  # training jobs holding a slot
        self._owned: dict[str, _Job] = {}
        self.seconds_per_unit = DEFAULT_SECONDS_PER_UNIT
        self.replacements = 0  # workers replaced for memory
        self.deaths = 0  # workers that died under their jobs
        self.peak_running = 0
        self.jobs = 0  # jobs ever sent to a worker, trainings and quick ones
        self._failed_starts = 0  # workers in a row that died before they were ready
        # Before multiprocessing's own exit handler ends the worker, which made the listener start another (a CI hang).
        atexit.register(self.shutdown, grace_seconds=0.5)

    # -- the worker's life ----------------------------------------------
    def start(self) -> "TrainingService":
        """Start the worker (and its warm-up) unless it runs already.

        Returns:
            self, for chaining.
        """
        with self._condition:
            if self._worker is None:
                self._spawn()
        return self

    def _spawn(self) -> None:
        """Start a new worker and the thread that listens to it; the caller holds the lock."""
        worker = _Worker(self._context, next(self._generations), self.warm)
        self._worker = worker
        threading.Thread(target=self._listen, args=(worker,), name=f"optlab-listen-{worker.generation}",
                         daemon=True).start()
        self._condition.notify_all()

    def _listen(self, worker: _Worker) -> None:
        """Route the worker's messages to the waiting callers until it ends."""
        while True:
            ready = wait_for_any([worker.connection, worker.process.sentinel])
            if worker.connection in ready:
                try:
                    message = worker.connection.recv()
                except (EOFError, OSError):
                    break
                self._route(worker, message)
            elif worker.process.sentinel in ready:
                break
        self._worker_ended(worker)

    def _route(self, worker: _Worker, message) -> None:
        kind = message[0]
        if kind in ("ready", "calibrated"):
            # The step time comes with "ready", or later in "calibrated" when the first job came first.
            worker.info.update(message[1])
            self.seconds_per_unit = message[1].get("seconds_per_unit", self.seconds_per_unit)
            worker.ready.set()
            return
        job = worker.jobs.get(message[1])
        if job is None:
            return  # a cancelled job's late message; its caller has gone
        if kind in ("done", "error"):
            # Before the slot is given back, so that no waiting job is sent to a worker about to retire.
            self._check_memory(worker)
        job.messages.put(message)
        if kind in ("done", "error"):
            self._finish(job)  # retires the worker if it was the last job there

    def _worker_ended(self, worker: _Worker) -> None:
        with self._condition:
            orphans = list(worker.jobs.values())
            if not worker.retiring:
                self.deaths += 1
                _LOG.warning("training worker %d ended with %d jobs (exit code %s); starting a new one",
                             worker.generation, len(orphans), worker.process.exitcode)
            # A worker that dies before it is ready (a broken install, no memory at all) would
            # otherwise be restarted in a tight loop: wait longer after each such failure.
            self._failed_starts = 0 if worker.ready.is_set() else self._failed_starts + 1
            if self._worker is worker:
                delay = min(MAX_RESTART_DELAY, 0.5 * 2 ** self._failed_starts) if self._failed_starts else 0.0
                if delay:
                    self._worker = None
                    threading.Timer(delay, self.start).start()
                else:
                    self._spawn()
        for job in orphans:
            job.messages.put(("died",))
            self._finish(job)
        worker.connection.close()

    def _check_memory(self, worker: _Worker) -> None:
        """Mark a worker above the memory ceiling as retiring: it takes no new jobs, and goes after its last."""
        if not worker.retiring and worker.memory_bytes() > self.worker_max_bytes:
            with self._condition:
                if self._worker is worker:
                    worker.retiring = True
                    _LOG.info("training worker %d is over %d MB; replacing it after its jobs",
                              worker.generation, self.worker_max_bytes // 2**20)

    def _retire_if_idle(self, worker: _Worker) -> None:
        with self._condition:
            if not worker.retiring or worker.jobs or self._worker is not worker:
                return
            self.replacements += 1
            self._spawn()
        # The old process is told to stop, and made to if it does not.
        try:
            worker.send(("stop",))
        except OSError:
            pass
        threading.Thread(target=_reap, args=(worker.process,), daemon=True).start()

    # -- admission ------------------------------------------------------
    def _finish(self, job: _Job) -> None:
        with self._condition:
            if job.finished:
                return
            job.finished = True
            if job.worker is not None:
                job.worker.jobs.pop(job.job_id, None)
            if job in self._running:
                self._running.remove(job)
            if job in self._waiting:
                self._waiting.remove(job)
            if job.owner is not None and self._owned.get(job.owner) is job:
                del self._owned[job.owner]
            self._condition.notify_all()
        if job.worker is not None:
            self._retire_if_idle(job.worker)

    def _place(self, job: _Job) -> Optional[int]:
        """None when `job` may start now; else its 1-based place among the waiters. Caller holds the lock."""
        free_long = self.max_trainings - sum(j.long for j in self._running)
        free_total = self.max_trainings + self.short_lane - len(self._running)
        for position, waiter in enumerate(self._waiting):
            fits = free_total > 0 and (free_long > 0 or not waiter.long)
            if waiter is job:
                return None if fits else position + 1
            if fits:  # an earlier waiter that fits goes first
                free_total -= 1
                free_long -= waiter.long
        raise AssertionError("a job being placed must be waiting")

    def _admit(self, job: _Job, on_wait: Optional[Callable[[WaitInfo], None]]) -> None:
        """Wait for a slot (training jobs) and a worker that takes jobs; register the job with it."""
        with self._condition:
            if job.kind == "train":
                if job.owner is not None:
                    previous = self._owned.get(job.owner)
                    if previous is not None:
                        self._supersede(previous)
                    self._owned[job.owner] = job
                self._waiting.append(job)
        try:
            while True:
                with self._condition:
                    if job.superseded:
                        raise Superseded("a newer training of the same session replaced this one")
                    worker = self._worker
                    position = self._place(job) if job.kind == "train" else None
                    if worker is not None and not worker.retiring and position is None:
                        if job.kind == "train":
                            self._waiting.remove(job)
                            self._running.append(job)
                            job.admitted = True
                            self.peak_running = max(self.peak_running, len(self._running))
                        job.worker = worker
                        worker.jobs[job.job_id] = job
                        return
                    info = WaitInfo("queue" if position else "warming", position or 0,
                                    len(self._running), self.max_trainings)
                    if on_wait is None:
                        self._condition.wait(POLL_SECONDS)
                        continue
                on_wait(info)  # outside the lock: it may draw, or raise Streamlit's stop signal
                with self._condition:
                    self._condition.wait(POLL_SECONDS)
        except BaseException:
            self._finish(job)
            raise

    def _supersede(self, job: _Job) -> None:
        """Cancel a session's earlier training; the caller holds the lock."""
        job.superseded = True
        if job.worker is not None and not job.finished:
            self._send_cancel(job)

    @staticmethod
    def _send_cancel(job: _Job) -> None:
        try:
            job.worker.send(("cancel", job.job_id))
        except OSError:
            pass  # the worker is gone; the listener fails the job

    # -- running --------------------------------------------------------
    def run(self, task: Callable, *args, kind: str = "train", long: bool = True, owner: Optional[str] = None,
            on_progress: Optional[Callable] = None, should_stop: Optional[Callable[[], bool]] = None,
            on_wait: Optional[Callable[[WaitInfo], None]] = None, **kwargs):
        """Run `task(*args, **kwargs)` in the worker and return its result.

        Args:
            task: a top-level function (it is sent by name).
            *args: its arguments; they must pickle (a shared Dataset pickles as its name).
            kind: "train" takes a training slot; "quick" does not.
            long: a training that may not use the short lane (False for runs under SHORT_RUN_SECONDS).
            owner: the session; its earlier training is cancelled.
            on_progress: when given, the task also receives on_progress and should_stop, and
                progress is handed to this callable in the caller's thread.
            should_stop: polled about every POLL_SECONDS; True cancels the job in the worker.
            on_wait: told the queue position, or that the worker is warming up.
            **kwargs: the task's keyword arguments.
        Returns:
            what the task returned.
        """
        if kind not in ("train", "quick"):
            raise ValueError(f"kind must be 'train' or 'quick', got {kind!r}")
        self.start()
        job = _Job(next(self._job_ids), kind, long, owner)
        with self._condition:
            self.jobs += 1
        self._admit(job, on_wait)
        sent = False
        try:
            try:
                payload = pickle.dumps((task, args, kwargs, on_progress is not None))
            except Exception as error:
                raise TypeError(f"{getattr(task, '__name__', task)}: its arguments cannot be sent to the worker "
                                f"({error})") from error
            job.worker.send(("run", job.job_id, payload))
            sent = True
            return self._follow(job, on_progress, should_stop, on_wait)
        finally:
            if not sent:
                self._finish(job)
            elif not job.finished:
                # The caller left early (Stop, a rerun, a closed tab): stop the work it started. Its
                # slot is given back when the worker reports the job's end, within a chunk.
                self._send_cancel(job)

    def _follow(self, job: _Job, on_progress, should_stop, on_wait):
        cancelled = False
        while True:
            try:
                message = job.messages.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not cancelled and ((should_stop is not None and should_stop()) or job.superseded):
                    cancelled = True
                    self._send_cancel(job)  # the job ends by itself and sends what it has
                if on_wait is not None and not job.worker.ready.is_set():
                    on_wait(WaitInfo("warming", 0, len(self._running), self.max_trainings))
                continue
            kind = message[0]
            if kind == "progress":
                if on_progress is not None:
                    on_progress(message[2])
            elif kind == "done":
                return message[2]
            elif kind == "error":
                raise message[2]
            elif kind == "died":
                raise WorkerStopped()

    # -- trainings of the Training Lab ------------------------------------
    def estimate(self, config: TrainConfig) -> float:
        """Estimated seconds of `config` on this server, from the worker's measured step time.

        Args:
            config: the run's settings.
        Returns:
            seconds.
        """
        return estimate_seconds(config, self.seconds_per_unit)

    def is_long(self, config: TrainConfig) -> bool:
        """Whether a run of `config` must keep out of the short lane (estimated at SHORT_RUN_SECONDS or more).

        Args:
            config: the run's settings, or a config that costs what the run costs.
        Returns:
            True for a long run.
        """
        return self.estimate(config) >= SHORT_RUN_SECONDS

    def check_budget(self, config: TrainConfig) -> None:
        """Raise RunRefused, naming what to reduce, when `config` is estimated over the per-run budget.

        Args:
            config: the run's settings.
        """
        estimate = self.estimate(config)
        if estimate > self.max_run_seconds:
            raise RunRefused(over_budget_message(config, estimate, self.max_run_seconds))

    def train(self, config: TrainConfig, on_progress=None, should_stop=None, on_wait=None, owner: Optional[str] = None):
        """Train `config` within the per-run budget, in a training slot; its speed updates the cost estimates.

        Args:
            config: the run's settings.
            on_progress: receives lab.training.TrainProgress snapshots.
            should_stop: True cancels the run (kept as "cancelled").
            on_wait: told the queue position.
            owner: the session.
        Returns:
            a lab.training.TrainResult; one that ran out of time has stop_reason "time_budget".
        """
        from lab.worker import train_task

        self.check_budget(config)
        result = self.run(train_task, config, self.max_run_seconds, kind="train", long=self.is_long(config),
                          owner=owner, on_progress=on_progress or _ignore, should_stop=should_stop, on_wait=on_wait)
        # The warm-up's probe may have timed a passing load ("about 22 s" shown for a 5 s run): the latest run rules.
        self.seconds_per_unit = seconds_per_unit_of(config, result.history, result.steps_per_epoch) or self.seconds_per_unit
        return result

    # -- reading ----------------------------------------------------------
    def wait_until_ready(self, timeout: float = 120.0) -> bool:
        """Block until the current worker has warmed up.

        Args:
            timeout: the longest wait in seconds.
        Returns:
            True when it is ready.
        """
        self.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._condition:
                worker = self._worker
            if worker is None:
                time.sleep(POLL_SECONDS)  # between a failed start and the restart
            elif worker.ready.wait(POLL_SECONDS):
                return True
        return False

    @property
    def ready(self) -> bool:
        """Whether the current worker has warmed up.

        Returns:
            True or False.
        """
        worker = self._worker
        return worker is not None and worker.ready.is_set()

    def worker_pid(self) -> Optional[int]:
        """The current worker's process id.

        Returns:
            a pid, or None before start.
        """
        worker = self._worker
        return None if worker is None else worker.process.pid

    def stats(self) -> dict:
        """Counters for dashboards and the benchmarks.

        Returns:
            dict with running, waiting, capacity, peak_running, jobs, replacements, deaths,
            worker_mb, warm_seconds and warm_error (why the warm-up could not load the data, or None).
        """
        with self._condition:
            worker = self._worker
            counts = {"running": len(self._running), "waiting": len(self._waiting), "capacity": self.max_trainings,
                      "peak_running": self.peak_running, "jobs": self.jobs, "replacements": self.replacements}
        info, megabytes = (worker.info, round(worker.memory_bytes() / 2**20, 1)) if worker else ({}, 0.0)
        return {**counts, "deaths": self.deaths, "worker_mb": megabytes, "warm_seconds": info.get("seconds"),
                "warm_error": info.get("warm_error")}

    def shutdown(self, grace_seconds: float = 5.0) -> None:
        """Stop the worker (killed after `grace_seconds`); a later run starts a new one."""
        with self._condition:
            worker, self._worker = self._worker, None
            if worker is not None:
                worker.retiring = True
        if worker is not None:
            try:
                worker.send(("stop",))
            except OSError:
                pass
            _reap(worker.process, grace_seconds)


def _ignore(progress) -> None:
    """A progress callback that keeps nothing (the trainer still reports, and stays cancellable)."""


def _reap(process, grace_seconds: float = 5.0) -> None:
    """Wait for a worker to stop, then make it."""
    process.join(grace_seconds)
    if process.is_alive():
        process.kill()
        process.join(grace_seconds)


def service_from_env(environ=None, warm: bool = True) -> TrainingService:
    """A service configured by OPTLAB_MAX_TRAININGS, OPTLAB_WORKER_MAX_MB and OPTLAB_MAX_RUN_SECONDS.

    Args:
        environ: mapping to read (os.environ by default).
        warm: warm the worker up when it starts.
    Returns:
        a TrainingService, not started yet.
    """
    environ = os.environ if environ is None else environ
    return TrainingService(
        max_trainings=int_from_env(MAX_TRAININGS_ENV, DEFAULT_MAX_TRAININGS, 1, 64, environ),
        worker_max_mb=int_from_env(WORKER_MAX_MB_ENV, DEFAULT_WORKER_MAX_MB, 300, 64_000, environ),
        max_run_seconds=int_from_env(MAX_RUN_SECONDS_ENV, DEFAULT_MAX_RUN_SECONDS, 1, 86_400, environ),
        warm=warm,
    )


_SERVICE: Optional[TrainingService] = None
_SERVICE_LOCK = threading.Lock()


def get_service() -> TrainingService:
    """The process's one training service, started on first use.

    Returns:
        the shared TrainingService.
    """
    global _SERVICE
    with _SERVICE_LOCK:
        if _SERVICE is None:
            _SERVICE = service_from_env().start()  # it stops its worker at exit (see TrainingService.__init__)
        return _SERVICE

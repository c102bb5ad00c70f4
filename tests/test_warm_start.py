"""The first visit of a server starts the training worker before anything slow, so the first Train press waits less."""

import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

# Each test starts a fresh interpreter or a service of its own, each importing TensorFlow in a new worker
# process (about 10 s of CPU for the two), so they run in the full tier.
pytestmark = pytest.mark.slow

# Run in a fresh interpreter: this test process has long imported every module the checks look for.
FIRST_RUN = """
import json, sys
from streamlit.testing.v1 import AppTest
import lab.service as service

started_before_app = []


class Watch:
    # Records, when app.py's own modules are first imported, whether the training worker has started.
    def find_spec(self, name, path=None, target=None):
        if name == "ui.catalog":
            started_before_app.append(service._SERVICE is not None)
        return None


sys.meta_path.insert(0, Watch())
import ui.presets
registry_with_presets = "lab.preset_lists" in sys.modules
app = AppTest.from_file("app.py", default_timeout=120).run()
print(json.dumps({"started_before_app": started_before_app, "registry_with_presets": registry_with_presets,
                  "exception": bool(app.exception)}), flush=True)
# Kill the worker rather than wait for its warm-up to end (TensorFlow would load for nothing).
worker = service._SERVICE._worker
worker.retiring, service._SERVICE._worker = True, None
worker.process.kill()
worker.process.join()
"""


def test_the_first_script_run_starts_the_worker_before_importing_the_app(data_dir):
    completed = subprocess.run([sys.executable, "-c", FIRST_RUN], cwd=ROOT, capture_output=True, text=True,
                               timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report == {"started_before_app": [True], "registry_with_presets": False, "exception": False}


def test_a_job_sent_during_the_warm_up_is_served_before_the_step_time_probe(data_dir):
    from lab.config import TrainConfig
    from lab.cost import DEFAULT_SECONDS_PER_UNIT
    from lab.service import TrainingService

    service = TrainingService(max_trainings=2, warm=True).start()
    try:
        # Sent at once, while the worker still imports TensorFlow: the first student's Train press.
        estimates_while_running = []
        result = service.train(TrainConfig(train_size=500, validation_size=500, epochs=1, seed=5),
                               on_progress=lambda progress: estimates_while_running.append(service.seconds_per_unit))
        assert result.test_accuracy is not None and estimates_while_running
        # The probe had not run when the job did (before, it ran before "ready", ahead of the job)...
        assert set(estimates_while_running) == {DEFAULT_SECONDS_PER_UNIT}
        # ...and runs once the worker is idle, so estimates use this machine's step time again.
        assert service.wait_until_ready(60)
        deadline = time.monotonic() + 120
        while service.seconds_per_unit == DEFAULT_SECONDS_PER_UNIT and time.monotonic() < deadline:
            time.sleep(0.2)
        assert service.seconds_per_unit != DEFAULT_SECONDS_PER_UNIT
    finally:
        service.shutdown()

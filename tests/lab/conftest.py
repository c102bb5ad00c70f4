"""The backend tests' shared training service."""

from __future__ import annotations

import pytest


def _settings(service) -> tuple:
    return service.max_trainings, service.short_lane, service.worker_max_bytes, service.max_run_seconds, service.warm


@pytest.fixture(scope="session")
def warm_service(data_dir):
    """One started training service at its default settings, its worker warmed up (TensorFlow, data, the default
    engine): the service and admission tests that train through a worker share it, as each warm-up costs seconds.

    It is the process's own service (lab.service.get_service), which the pages' AppTests in the same test process
    train through too, so a process warms up one worker, not two; only an environment that configures the service
    (OPTLAB_MAX_TRAININGS and the like) gets a separate one at the defaults.

    Yields:
        a ready TrainingService (a separate one is shut down after the session; the process's own at its exit).
    """
    from lab.service import get_service, service_from_env

    shared = get_service()
    own = None if _settings(shared) == _settings(service_from_env({})) else service_from_env({}).start()
    service = own or shared
    assert service.wait_until_ready(180)
    yield service
    if own is not None:
        own.shutdown()

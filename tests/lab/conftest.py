"""The backend tests' shared training service."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def warm_service(data_dir):
    """One started training service at its default settings, its worker warmed up (TensorFlow, data, the default
    engine): the service and admission tests that train through a worker share it, as each warm-up costs seconds.

    Yields:
        a ready TrainingService, shut down after the session.
    """
    from lab.service import service_from_env

    service = service_from_env({}).start()
    assert service.wait_until_ready(180)
    yield service
    service.shutdown()

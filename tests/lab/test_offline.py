"""Offline use: with the data folder, nothing needs the network."""

import socket
import subprocess
import sys

import pytest

from lab.config import TrainConfig
from lab.data import DATA_DIR_ENV, DataError, load_dataset
from tests.conftest import ROOT


@pytest.fixture
def no_network(monkeypatch):
    """Refuse every connection that leaves this machine, as on a lecture-hall laptop offline."""
    real_connect = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1")):
            return real_connect(self, address)
        raise OSError(f"network disabled in this test (tried {address})")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: (_ for _ in ()).throw(OSError("no DNS")))


def test_datasets_and_training_work_without_network(data_dir, no_network):
    from lab.training import train

    fashion = load_dataset("fashion_mnist", data_dir)
    mnist = load_dataset("mnist", data_dir)
    assert fashion.source.endswith("fashion-mnist") and mnist.source.endswith("mnist-subset")
    result = train(TrainConfig(train_size=500, validation_size=200, epochs=1), fashion)
    assert result.stop_reason == "completed"


def test_without_files_or_network_the_error_says_how_to_fix_it(tmp_path, monkeypatch, no_network):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    with pytest.raises(DataError) as error:
        load_dataset("fashion_mnist")
    message = str(error.value)
    assert "train-images-idx3-ubyte.gz" in message and "download failed" in message
    assert DATA_DIR_ENV in message and "python -m lab.data download" in message


def test_check_command_reports_the_folders(data_dir):
    output = subprocess.run([sys.executable, "-m", "lab.data", "check", "--dir", str(data_dir)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert output.returncode == 0, output.stderr
    assert f"fashion_mnist: {data_dir / 'fashion-mnist'}" in output.stdout
    assert f"mnist: {data_dir / 'mnist-subset'}" in output.stdout

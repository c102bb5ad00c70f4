"""lab.data on the real files: shapes, search order, errors and splits."""

import gzip
import shutil
import struct

import numpy as np
import pytest

from lab.data import DATA_DIR_ENV, DataError, find_dataset_folder, load_dataset, read_idx, split_indices


def test_fashion_mnist_has_the_lecture_shapes(fashion):
    assert fashion.x_train.shape == (60_000, 28, 28) and fashion.x_test.shape == (10_000, 28, 28)
    assert fashion.x_train.dtype == np.uint8 and fashion.y_train.dtype == np.uint8
    assert fashion.class_names[0] == "T-shirt/top" and fashion.class_names[9] == "Ankle boot"
    assert np.bincount(fashion.y_train).tolist() == [6_000] * 10


def test_arrays_are_read_only_because_sessions_share_them(fashion):
    with pytest.raises(ValueError):
        fashion.x_train[0, 0, 0] = 1


def test_mnist_subset_loads_from_npz(mnist):
    assert mnist.x_train.shape == (8_000, 28, 28) and mnist.x_test.shape == (2_000, 28, 28)
    assert mnist.class_names == tuple("0123456789")


def test_environment_variable_is_searched_after_explicit_folder(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    assert find_dataset_folder("fashion_mnist", tmp_path) == data_dir / "fashion-mnist"
    assert find_dataset_folder("mnist") == data_dir / "mnist-subset"


def test_missing_explicit_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(DataError, match="does-not-exist does not exist"):
        load_dataset("fashion_mnist", tmp_path / "does-not-exist")


def _copy_fashion(data_dir, target):
    target.mkdir()
    for file in (data_dir / "fashion-mnist").iterdir():
        shutil.copy(file, target / file.name)
    return target


def test_corrupt_file_error_names_the_file_and_the_fix(data_dir, tmp_path):
    folder = _copy_fashion(data_dir, tmp_path / "fashion-mnist")
    broken = folder / "t10k-labels-idx1-ubyte.gz"
    broken.write_bytes(b"not a gzip file")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz is not a readable gzip file.*lab.data download"):
        load_dataset("fashion_mnist", tmp_path)


def test_truncated_and_wrong_magic_files_are_refused(tmp_path):
    truncated = tmp_path / "truncated-idx3-ubyte.gz"
    with gzip.open(truncated, "wb") as handle:
        handle.write(struct.pack(">IIII", 2051, 10, 28, 28) + b"\0" * 100)
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_idx(truncated)
    wrong = tmp_path / "wrong-idx1-ubyte.gz"
    with gzip.open(wrong, "wb") as handle:
        handle.write(struct.pack(">II", 1234, 0))
    with pytest.raises(DataError, match="magic number 1234"):
        read_idx(wrong)


def test_a_file_cut_inside_its_header_and_a_broken_npz_are_refused(tmp_path):
    cut = tmp_path / "cut-idx3-ubyte.gz"
    with gzip.open(cut, "wb") as handle:
        handle.write(struct.pack(">II", 2051, 10) + b"\0\0")  # the row and column counts are missing
    with pytest.raises(DataError, match="ends inside its IDX header"):
        read_idx(cut)
    broken = tmp_path / "mnist.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(DataError, match="mnist.npz is not a readable .npz file"):
        load_dataset("mnist", tmp_path)


def test_check_command_reports_instead_of_failing(data_dir, capsys, monkeypatch, tmp_path):
    from lab.data import main

    monkeypatch.delenv("OPTLAB_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # an empty cache
    assert main(["check", "--dir", str(tmp_path / "missing")]) == 0
    out = capsys.readouterr().out
    assert "no such folder" in out and "fashion_mnist: not found (would download)" in out
    assert main(["check", "--dir", str(data_dir)]) == 0
    assert "fashion_mnist: " + str(data_dir / "fashion-mnist") in capsys.readouterr().out


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_dataset("cifar10")


def test_split_is_disjoint_stratified_and_seeded(fashion):
    train, validation = split_indices(fashion.y_train, 2_000, 5_000, seed=7)
    assert len(train) == 2_000 and len(validation) == 5_000
    assert not set(train) & set(validation)
    assert np.bincount(fashion.y_train[validation], minlength=10).tolist() == [500] * 10
    assert np.bincount(fashion.y_train[train], minlength=10).tolist() == [200] * 10
    again = split_indices(fashion.y_train, 2_000, 5_000, seed=7)
    assert np.array_equal(train, again[0]) and np.array_equal(validation, again[1])
    other = split_indices(fashion.y_train, 2_000, 5_000, seed=8)
    assert not np.array_equal(validation, other[1])


def test_full_split_keeps_every_image_once(fashion):
    train, validation = split_indices(fashion.y_train, None, 5_000, seed=0)
    assert len(train) == 55_000
    assert np.array_equal(np.sort(np.concatenate([train, validation])), np.arange(60_000))


def test_split_larger_than_dataset_is_refused(mnist):
    with pytest.raises(ValueError, match="at most 8,000"):
        split_indices(mnist.y_train, 6_000, 5_000, seed=0)

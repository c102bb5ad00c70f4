"""Loading Fashion-MNIST and MNIST as shared, read-only uint8 arrays.

Where the files are looked for, in order:
1. the folder passed as `data_dir`;
2. the folder named by the environment variable ``OPTLAB_DATA_DIR``;
3. Keras's own cache (``~/.keras/datasets`` or ``$KERAS_HOME/datasets``);
4. otherwise the files are downloaded with ``keras.datasets`` (needs internet).

Inside a folder, a dataset's files may sit directly in it or in a subfolder
named after the dataset (``fashion-mnist/``, ``mnist/`` or ``mnist-subset/``),
so one data root serves both datasets.

Pre-download for offline use: ``python -m lab.data download --dir data``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import os
import shutil
import struct
import sys
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np

DATA_DIR_ENV = "OPTLAB_DATA_DIR"

CLASS_NAMES = {
    "fashion_mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    "mnist": tuple(str(digit) for digit in range(10)),
}

FASHION_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
MNIST_FILE = "mnist.npz"
_SUBFOLDERS = {"fashion_mnist": ("fashion-mnist", "fashion_mnist"), "mnist": ("mnist", "mnist-subset")}
_IDX_MAGIC = {3: 2051, 1: 2049}  # images have 3 dimensions, labels 1
_FIX_HINT = (
    f"Point {DATA_DIR_ENV} at a folder holding the dataset, or run "
    "`python -m lab.data download` on a machine with internet."
)


class DataError(RuntimeError):
    """A dataset file is missing or unreadable; the message names it and the fix."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """One dataset's train and test splits as read-only uint8 arrays."""

    name: str  # "fashion_mnist" or "mnist"
    x_train: np.ndarray  # (n, 28, 28) uint8 pixels
    y_train: np.ndarray  # (n,) uint8 labels 0-9
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str  # where the files came from, shown to users
    # (name, data_dir) when this is the copy `shared_dataset` keeps; see __reduce__.
    reference: Optional[tuple] = field(default=None, repr=False)

    def __reduce__(self):
        # Tasks sent to the training worker name their dataset instead of copying
        # 50 MB of pixels through a pipe: the worker unpickles the name into its
        # own shared copy, read from the same files.
        if self.reference is not None:
            return shared_dataset, self.reference
        return Dataset, tuple(getattr(self, item.name) for item in dataclasses.fields(self))

    @property
    def num_classes(self) -> int:
        """Number of classes (10 for both datasets).

        Returns:
            len(class_names).
        """
        return len(self.class_names)


# ----------------------------------------------------------------------
# Readers
# ----------------------------------------------------------------------
def read_idx(path: Path) -> np.ndarray:
    """Read one gzipped IDX file (images or labels) into a uint8 array.

    Args:
        path: a ``*-idx3-ubyte.gz`` or ``*-idx1-ubyte.gz`` file.
    Returns:
        uint8 array of shape (n, 28, 28) for images or (n,) for labels.
    """
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path} is not a readable gzip file ({error}). {_FIX_HINT}") from error
    if len(raw) < 8:
        raise DataError(f"{path} is too short to be an IDX file. {_FIX_HINT}")
    magic, count = struct.unpack(">II", raw[:8])
    dims = magic & 0xFF
    if _IDX_MAGIC.get(dims) != magic:
        raise DataError(f"{path} has IDX magic number {magic}, expected 2051 or 2049. {_FIX_HINT}")
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DataError(f"{path} ends inside its IDX header. The file is truncated. {_FIX_HINT}")
    shape = (count,) + struct.unpack(f">{dims - 1}I", raw[8:header])
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(
            f"{path} holds {len(raw) - header} bytes of data, expected {expected} for shape {shape}. "
            f"The file is truncated or corrupt. {_FIX_HINT}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    # allow_pickle=False: an npz from anywhere must never run code.
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as error:
        raise DataError(f"{path} lacks the array {error}; expected Keras's mnist.npz layout. {_FIX_HINT}")
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(f"{path} is not a readable .npz file ({error}). {_FIX_HINT}") from error
    return {key: value.astype(np.uint8, copy=False) for key, value in arrays.items()}


# ----------------------------------------------------------------------
# Finding the files
# ----------------------------------------------------------------------
def _required_files(name: str) -> tuple[str, ...]:
    return tuple(FASHION_FILES.values()) if name == "fashion_mnist" else (MNIST_FILE,)


def keras_cache_dir() -> Path:
    """Keras's dataset cache folder, honouring KERAS_HOME.

    Returns:
        the folder ``keras.datasets`` downloads into.
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def find_dataset_folder(name: str, data_dir: Optional[os.PathLike] = None) -> Optional[Path]:
    """The first folder holding all of a dataset's files, in the documented order.

    Args:
        name: "fashion_mnist" or "mnist".
        data_dir: an explicit folder to try first.
    Returns:
        the folder, or None when only a download would help.
    """
    roots = [Path(p) for p in (data_dir, os.environ.get(DATA_DIR_ENV)) if p]
    roots.append(keras_cache_dir())
    for root in roots:
        for folder in (root, *(root / sub for sub in _SUBFOLDERS[name])):
            if all((folder / file).is_file() for file in _required_files(name)):
                return folder
    # A folder the user named but that does not exist is a typo worth reporting,
    # not a reason to fall back to a slow download.
    for root in roots[:-1]:
        if not root.is_dir():
            raise DataError(f"The data folder {root} does not exist. {_FIX_HINT}")
    return None


def _load_folder(name: str, folder: Path) -> dict[str, np.ndarray]:
    if name == "mnist":
        return _read_npz(folder / MNIST_FILE)
    return {key: read_idx(folder / file) for key, file in FASHION_FILES.items()}


def _download(name: str) -> dict[str, np.ndarray]:
    # Imported here so that reading local files never pays for TensorFlow.
    import keras

    loader = keras.datasets.fashion_mnist if name == "fashion_mnist" else keras.datasets.mnist
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as error:  # the download raises many kinds of network errors
        files = ", ".join(_required_files(name))
        raise DataError(
            f"No local copy of {name} ({files}) was found and the download failed: {error}. {_FIX_HINT}"
        ) from error
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _check_arrays(name: str, arrays: dict[str, np.ndarray], source: str) -> None:
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
            raise DataError(
                f"{name} in {source}: {split} images have shape {images.shape} and "
                f"{len(labels)} labels; expected (n, 28, 28) with n labels. {_FIX_HINT}"
            )
        if labels.size and labels.max() >= len(CLASS_NAMES[name]):
            raise DataError(f"{name} in {source}: {split} labels go up to {labels.max()}, expected 0-9.")


def load_dataset(name: str = "fashion_mnist", data_dir: Optional[os.PathLike] = None) -> Dataset:
    """Load a dataset's train and test splits as read-only uint8 arrays.

    Args:
        name: "fashion_mnist" or "mnist".
        data_dir: optional folder to look in before OPTLAB_DATA_DIR and Keras's cache.
    Returns:
        a Dataset; its arrays are shared, so they are marked read-only.
    """
    if name not in CLASS_NAMES:
        raise ValueError(f"dataset must be one of {', '.join(CLASS_NAMES)}; got {name!r}")
    folder = find_dataset_folder(name, data_dir)
    if folder is None:
        arrays, source = _download(name), "downloaded with keras.datasets"
    else:
        arrays, source = _load_folder(name, folder), str(folder)
    _check_arrays(name, arrays, source)
    for array in arrays.values():
        array.setflags(write=False)
    return Dataset(name=name, class_names=CLASS_NAMES[name], source=source, **arrays)


def shared_dataset(name: str = "fashion_mnist", data_dir: Optional[str] = None) -> Dataset:
    """The one copy of a dataset this process keeps, which pickles as its name (see Dataset.__reduce__).

    Args:
        name: "fashion_mnist" or "mnist".
        data_dir: optional folder to look in first; None means OPTLAB_DATA_DIR and Keras's cache.
    Returns:
        the Dataset, loaded on the first call and shared by every later one.
    """
    return _shared_dataset(name, None if data_dir is None else str(data_dir))


def ensure_local(name: str = "fashion_mnist") -> str:
    """Download a dataset into Keras's cache unless a local copy exists; the training worker runs this.

    The download needs TensorFlow, which the Streamlit server never loads, so the
    server asks the worker to fetch the files and then reads them with NumPy.

    Args:
        name: "fashion_mnist" or "mnist".
    Returns:
        the folder that now holds the files.
    """
    folder = find_dataset_folder(name)
    if folder is None:
        _download(name)
        folder = find_dataset_folder(name)
    if folder is None:
        raise DataError(f"{name} was downloaded but its files are not in {keras_cache_dir()}. {_FIX_HINT}")
    return str(folder)


@lru_cache(maxsize=4)
def _shared_dataset(name: str, data_dir: Optional[str]) -> Dataset:
    # One cache key per (name, folder), however the caller spelled the arguments.
    return dataclasses.replace(load_dataset(name, data_dir), reference=(name, data_dir))


# ----------------------------------------------------------------------
# Splits
# ----------------------------------------------------------------------
def _stratified_take(labels: np.ndarray, candidates: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Pick `size` of `candidates` keeping the class proportions (largest remainder)."""
    classes, counts = np.unique(labels[candidates], return_counts=True)
    exact = counts * size / counts.sum()
    quota = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - quota), kind="stable")[: size - quota.sum()]:
        quota[index] += 1
    picked = [
        rng.permutation(candidates[labels[candidates] == cls])[:take]
        for cls, take in zip(classes, quota)
    ]
    return rng.permutation(np.concatenate(picked))


def split_indices(
    labels: np.ndarray, train_size: Optional[int], validation_size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified, seeded split of the training set into train and validation indices.

    Args:
        labels: labels of the full training set.
        train_size: how many training images to keep; None keeps all not held out.
        validation_size: how many images to hold out for validation.
        seed: the run's seed; equal seeds give equal splits.
    Returns:
        (train_indices, validation_indices), disjoint int64 arrays.
    """
    total = len(labels)
    wanted = (train_size or 0) + validation_size
    if validation_size >= total or wanted > total:
        raise ValueError(
            f"train_size + validation_size must be at most {total:,} for this dataset, "
            f"got {train_size} + {validation_size}"
        )
    rng = np.random.default_rng([seed, 1])
    everything = np.arange(total)
    validation = _stratified_take(labels, everything, validation_size, rng)
    remaining = np.setdiff1d(everything, validation, assume_unique=True)
    if train_size is None or train_size == len(remaining):
        train = rng.permutation(remaining)
    else:
        train = _stratified_take(labels, remaining, train_size, rng)
    return train, validation


# ----------------------------------------------------------------------
# Pre-download for offline use
# ----------------------------------------------------------------------
def download(target: os.PathLike) -> list[Path]:
    """Download both datasets with keras.datasets and copy them into `target`.

    Args:
        target: the data folder to fill (created if missing).
    Returns:
        the folders written, one per dataset.
    """
    target = Path(target)
    written = []
    for name, subfolder in (("fashion_mnist", "fashion-mnist"), ("mnist", "mnist")):
        _download(name)  # fills Keras's cache, or raises a DataError naming the dataset
        cache = keras_cache_dir()
        source = cache / "fashion-mnist" if name == "fashion_mnist" else cache
        destination = target / subfolder
        destination.mkdir(parents=True, exist_ok=True)
        for file in _required_files(name):
            shutil.copy2(source / file, destination / file)
        written.append(destination)
    return written


def main(argv: Optional[list[str]] = None) -> int:
    """Command line: ``python -m lab.data download [--dir DIR]`` or ``check``.

    Args:
        argv: arguments, defaulting to sys.argv.
    Returns:
        the process exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m lab.data", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("download", "check"))
    parser.add_argument("--dir", default=os.environ.get(DATA_DIR_ENV, "data"), help="the data folder")
    args = parser.parse_args(argv)
    if args.command == "download":
        try:
            folders = download(args.dir)
        except (DataError, OSError) as error:
            print(f"download failed: {error}", file=sys.stderr)
            return 1
        for folder in folders:
            print(f"wrote {folder}")
        print(f"Now run with {DATA_DIR_ENV}={Path(args.dir).resolve()} for offline use.")
        return 0
    # `check` reports a missing folder instead of failing, so it also works before `download`.
    data_dir = args.dir if Path(args.dir).is_dir() else None
    if data_dir is None:
        print(f"{args.dir}: no such folder; looking in ${DATA_DIR_ENV} and Keras's cache instead")
    for name in CLASS_NAMES:
        try:
            folder = find_dataset_folder(name, data_dir)
        except DataError as error:
            folder = f"not usable: {error}"
        print(f"{name}: {folder or 'not found (would download)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

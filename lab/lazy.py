"""Keras and TensorFlow as modules that load on first use.

The Streamlit server imports the lab's modules for their figures, tables and
code strings, but must never load TensorFlow (about 700 MB, and a process-wide
state the server would share between all sessions). Modules that build models
write `from lab.lazy import keras, tf`: the name works exactly like the module,
but the import happens only when an attribute is first read, which is in the
training worker (lab.worker). tests/lab/test_service.py checks that opening every
page leaves TensorFlow unloaded in the server.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """A stand-in for a module that imports it when an attribute is first read."""

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"


keras = LazyModule("keras")
tf = LazyModule("tensorflow")

"""Faster optimizers: the real Keras optimizers on 2-D loss surfaces and on Fashion-MNIST.

The package is cut along its jobs: `surfaces` (the surfaces, settings, paths and
the update equations with live values, plain NumPy), `experiments` (everything
that runs Keras, in the training worker), `figures` (Plotly) and `claims` (the
page's outcome claims). Pages and tests use the names re-exported here.
"""

from lab.topics.optimizers.claims import *  # noqa: F401,F403
from lab.topics.optimizers.experiments import *  # noqa: F401,F403
from lab.topics.optimizers.figures import *  # noqa: F401,F403
from lab.topics.optimizers.surfaces import *  # noqa: F401,F403

"""Optimisation Lab's backend: config, data, models, optimizers, training and plots.

Nothing in this package imports Streamlit. Importing the package itself is
cheap; TensorFlow loads only with `lab.models`, `lab.optimizers` or
`lab.training`.
"""

import os

# TensorFlow's C++ start-up chatter (CPU feature notices) is noise in a lecture
# log; real errors still print. setdefault leaves a user's own choice alone.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

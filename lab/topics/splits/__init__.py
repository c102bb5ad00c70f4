"""Topic 4, training, validation and test sets.

- The split: seeded and stratified, with a check that no image index is shared
  and a count of pixel-identical images across the splits.
- Overfitting: a small training subset and many epochs open a gap between
  training and validation accuracy.
- Early stopping: Keras's EarlyStopping with patience and restored best weights,
  and a pure function that says where a given patience would stop on a recorded
  history (tested against Keras's own decision).
- Tuning on the test set is optimistic: the candidate that wins on the test set
  scores lower on fresh data; the one picked on validation data does not.
- The page's outcome claims (CLAIMS), about its default experiments
  (claims_experiment), and the neutral notices it shows for any other settings.

Cut along its jobs: `checks` (the split), `overfitting` (overfitting and early stopping),
`selection` (choosing on the test set) and `claims`; pages and tests use the names re-exported here.
"""

from lab.topics.splits.checks import *  # noqa: F401,F403
from lab.topics.splits.claims import *  # noqa: F401,F403
from lab.topics.splits.overfitting import *  # noqa: F401,F403
from lab.topics.splits.selection import *  # noqa: F401,F403

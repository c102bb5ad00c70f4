"""Run records: what a session keeps of each training run, and how runs are compared and shared.

Cut along its jobs: `record` (RunRecord, RunHistory), `compare` (labels, the
settings table, metric series, the same-seed A/B), `explain` (what the Training
Lab says about a run) and `files` (CSV and JSON export, the strict JSON import).
Callers use the names re-exported here, e.g. `from lab import runs; runs.RunHistory()`.
"""

from lab.config import OPTIMIZER_LABELS, setting_label  # noqa: F401  (the compare table's words)
from lab.runs.compare import *  # noqa: F401,F403
from lab.runs.explain import *  # noqa: F401,F403
from lab.runs.files import *  # noqa: F401,F403
from lab.runs.record import *  # noqa: F401,F403

"""Stop Streamlit from resetting Keras after every script run.

After each run of any session's script, Streamlit 1.67 calls
`keras.backend.clear_session()` if Keras is imported
(`streamlit.runtime.scriptrunner.script_runner._clean_problem_modules`). On a
server where all sessions share one process that is exactly the process-wide
reset this app must never do: it replaces Keras's global state under trainings
running in other threads, clears TensorFlow's eager kernel cache for everyone,
and runs a full garbage collection while holding the GIL (measured here: 0.18 s
per script run, and the next training 50% slower). This app never uses
matplotlib either, the other module that hook tidies, so the hook is replaced
by one that does nothing.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner import script_runner


def _keep_state() -> None:
    """Nothing to clean: Keras state is per run by construction here (fresh models, seeded initializers)."""


def keep_keras_state() -> bool:
    """Replace Streamlit's after-run cleanup hook, once per process.

    Returns:
        True when the hook was found and replaced (False if a Streamlit upgrade removed it).
    """
    if not hasattr(script_runner, "_clean_problem_modules"):
        return False
    script_runner._clean_problem_modules = _keep_state
    return True

"""Outcome claims as data: the sentence a page shows, next to the check that makes it true.

A page that says "clipvalue diverges" or "decay 0.1 stalls" states an outcome of
an experiment. Each such sentence is declared in its topic module as a `Claim`
in the module-level tuple `CLAIMS`, together with a predicate over the result of
that module's `claims_experiment(dataset, trainer=None)`. The page renders
`claim.text` from there, and one test runs every module's experiment on the
real data and checks every predicate, so a page cannot state an outcome that no
test checks. This module imports neither Keras nor Streamlit.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Iterator


@dataclass(frozen=True)
class Claim:
    """One outcome sentence a page states, and the predicate over its experiment's result that must hold."""

    text: str  # Markdown, shown on the page as it is
    holds: Callable[[Any], bool]  # takes the result of the module's claims_experiment


def claim_modules() -> Iterator[ModuleType]:
    """Every lab.topics module that declares CLAIMS.

    Returns:
        an iterator of modules, each with CLAIMS and claims_experiment.
    """
    import lab.topics

    for info in pkgutil.iter_modules(lab.topics.__path__):
        module = importlib.import_module(f"lab.topics.{info.name}")
        if hasattr(module, "CLAIMS"):
            yield module


def failed_claims(module: ModuleType, result: Any) -> list[str]:
    """The texts of a module's claims whose predicate does not hold for `result`.

    Args:
        module: a topic module with CLAIMS.
        result: what its claims_experiment returned.
    Returns:
        the texts of the claims that are false here (empty when all hold).
    """
    return [claim.text for claim in module.CLAIMS if not claim.holds(result)]


def markdown_list(claims: tuple[Claim, ...]) -> str:
    """The claims as a Markdown bullet list, for a page.

    Args:
        claims: a module's CLAIMS.
    Returns:
        one "- text" line per claim.
    """
    return "\n".join(f"- {claim.text}" for claim in claims)


def in_points(difference: float, above: str, below: str, same: str, decimals: int = 1) -> str:
    """A difference of two accuracies in words: its size in points and its direction, never a signed number.

    "differ by -0.01 points" beside two accuracies that both read 84.3% said less than
    "the same to 0.1 points"; the direction goes into words, the sign out of the sentence.

    Args:
        difference: the first accuracy minus the second, as fractions (0.003 is 0.3 points).
        above: the words after the size when the first is higher, e.g. "above the softmax layer's".
        below: the words when it is lower.
        same: the words when the difference rounds to zero, followed by " to 0.1 points".
        decimals: the points' decimals, as the page shows the accuracies.
    Returns:
        e.g. "0.3 points below the softmax layer's" or "the same as the softmax layer's to 0.1 points".
    """
    points = abs(difference) * 100
    if round(points, decimals) == 0:
        return f"{same} to {10 ** -decimals:g} points"
    return f"{points:.{decimals}f} points {above if difference > 0 else below}"

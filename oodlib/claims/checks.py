"""Reusable ``Claim.check`` functions: reasons a run is unfit to judge a claim.

A check receives the claim's :class:`~oodlib.claims.evidence.Evidence` and returns a
reason (the verdict becomes "inconclusive") or ``None``.
"""

from __future__ import annotations

from collections.abc import Callable

from .evidence import Evidence


def model_learned(min_above_chance: float = 0.1) -> Callable[[Evidence], str | None]:
    """The ID classifier must beat chance by ``min_above_chance`` (a fraction).

    Needs ``facts["id_accuracy"]`` and ``facts["chance_accuracy"]`` (fractions). A model at
    chance has scores that say nothing about the method: claims about them are not judged.
    """

    def check(ev: Evidence) -> str | None:
        acc, chance = ev.facts.get("id_accuracy"), ev.facts.get("chance_accuracy")
        if acc is None or chance is None:
            return "the run did not record its ID accuracy and chance level"
        return not_learned(acc, chance, min_above_chance)

    return check


def not_learned(accuracy: float, chance: float, min_above_chance: float = 0.1) -> str | None:
    """The reason a classifier at ``accuracy`` (fraction) did not learn, or None when it beats
    ``chance`` by at least ``min_above_chance``; shared by declared claims and point-comparison ones
    (:meth:`oodlib.records.RunRecord.require_learned`)."""
    if accuracy < chance + min_above_chance:
        return (f"ID accuracy {100 * accuracy:.1f}% is within {100 * min_above_chance:.0f} points of chance "
                f"({100 * chance:.1f}%): the model did not learn")
    return None


def flag_false(fact: str, reason: str) -> Callable[[Evidence], str | None]:
    """Inconclusive when ``facts[fact]`` is true (e.g. ``"detector_collapsed"``)."""

    def check(ev: Evidence) -> str | None:
        return reason if ev.facts.get(fact) else None

    return check

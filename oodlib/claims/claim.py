"""A paper's claim as data, and the one rule that turns an interval into a verdict.

A :class:`Claim` is declared once, beside the paper's code (``oodlib/papers/<p>/claims.py``):
the paper's statement and where it is made, the effect it is about (a metric
comparison), the direction, and a **margin fixed in advance** in the effect's units
with a one-line reason. :func:`judge` estimates the effect with a paired bootstrap
(:mod:`oodlib.claims.bootstrap`) and applies :func:`decide`:

=============  =======================================  ==========================================
direction      supported                                not supported
=============  =======================================  ==========================================
``greater``    the whole interval lies above ``margin``  the whole interval lies below ``margin``
``less``       the whole interval lies below ``margin``  the whole interval lies above ``margin``
``within``     the interval lies inside ``±margin``       the interval lies outside ``±margin``
=============  =======================================  ==========================================

Anything else is **inconclusive**, and so is a claim whose ``check`` finds the run unfit
to judge it (a collapsed detector, a model at chance accuracy), with the reason. A claim
whose evidence the run did not produce is **not run**, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..seeding import child_seed
from .bootstrap import Interval, bootstrap_effect
from .evidence import Evidence

Direction = Literal["greater", "less", "within"]
VERDICTS = ("supported", "not supported", "inconclusive", "not run")
DIRECTIONS = ("greater", "less", "within")


@dataclass(frozen=True)
class Claim:
    """One claim of a paper, declared before any run.

    Attributes:
        id: stable identifier, ``"<paper>/<short name>"``.
        statement: the paper's claim in its words (or a close paraphrase, marked so).
        source: where the paper makes it ("Sec. 4.3, Table 2").
        effect: callable ``effect(arrays) -> float`` with ``label`` and ``parts`` (see
            :mod:`oodlib.claims.effects`).
        evidence: name of the :class:`Evidence` the effect is computed on.
        direction: ``"greater"``, ``"less"`` or ``"within"`` (see the module table).
        margin: the bound the effect must clear, in ``units``, fixed in advance.
        margin_reason: why this margin, in one line.
        units: the effect's units ("AUROC points", "HM ratio").
        paper_effect: the paper's own value of the same effect, where it reports one.
        paper_note: where that value comes from.
        check: ``check(evidence) -> reason or None``; a reason makes the verdict inconclusive.
        protocol: a note on the protocol when it is not a plain held-out comparison
            (e.g. an oracle choice on test data, as the paper does).
    """

    id: str
    statement: str
    source: str
    effect: Callable[[Mapping[str, np.ndarray]], float]
    evidence: str
    direction: Direction
    margin: float
    margin_reason: str
    units: str = "points"
    paper_effect: float | None = None
    paper_note: str = ""
    check: Callable[[Evidence], str | None] | None = None
    protocol: str = ""

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"claim {self.id!r}: direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if not np.isfinite(self.margin) or (self.direction == "within" and self.margin <= 0):
            raise ValueError(f"claim {self.id!r}: margin must be finite (and > 0 for 'within'), got {self.margin}")
        if not self.margin_reason.strip():
            raise ValueError(f"claim {self.id!r}: give the margin's reason (margin_reason)")

    @property
    def label(self) -> str:
        """What the effect measures, in words."""
        return getattr(self.effect, "label", "effect")

    def rule(self, level: float = 0.95) -> str:
        """The decision rule in words."""
        pct = f"{100 * level:g}%"
        m = f"{self.margin:g} {self.units}"
        if self.direction == "greater":
            return f"supported if the {pct} interval of {self.label} lies above {m}; not supported if below"
        if self.direction == "less":
            return f"supported if the {pct} interval of {self.label} lies below {m}; not supported if above"
        return f"supported if the {pct} interval of {self.label} lies within ±{m}; not supported if wholly outside"


def decide(direction: str, margin: float, low: float, high: float) -> str:
    """The verdict for an interval ``[low, high]`` (see the module table)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if direction == "greater":
        return "supported" if low > margin else "not supported" if high < margin else "inconclusive"
    if direction == "less":
        return "supported" if high < margin else "not supported" if low > margin else "inconclusive"
    if direction == "within":
        if -margin < low and high < margin:
            return "supported"
        return "not supported" if (low > margin or high < -margin) else "inconclusive"
    raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


@dataclass(frozen=True)
class Verdict:
    """A judged claim: the verdict with its interval and the numbers behind it."""

    claim: Claim
    verdict: str
    interval: Interval | None
    reason: str = ""
    parts: dict[str, float] = field(default_factory=dict)
    data: str = ""
    unit: str = "sample"

    def evidence_text(self) -> str:
        """One line: the parts, then the effect with its interval."""
        bits = [f"{k} {v:.2f}" for k, v in self.parts.items() if np.isfinite(v)]
        iv = self.interval
        if iv is not None and iv.defined:
            pct = f"{100 * iv.level:g}%"
            bits.append(f"effect {iv.point:+.2f} {self.claim.units}, {pct} CI [{iv.low:+.2f}, {iv.high:+.2f}]"
                        f" ({iv.n_seeds} seed{'s' if iv.n_seeds != 1 else ''})")
        elif iv is not None and np.isfinite(iv.point):
            bits.append(f"effect {iv.point:+.2f} {self.claim.units}, no interval")
        if self.reason:
            bits.append(self.reason)
        return "; ".join(bits) or self.verdict

    def to_record(self) -> dict[str, Any]:
        """The record entry (see ``oodlib/schemas/record.schema.json``)."""
        c, iv = self.claim, self.interval
        out: dict[str, Any] = {
            "id": c.id, "claim": c.statement, "source": c.source, "verdict": self.verdict,
            "evidence": self.evidence_text(), "effect_label": c.label, "direction": c.direction,
            "margin": c.margin, "margin_reason": c.margin_reason, "units": c.units, "rule": c.rule(iv.level if iv else 0.95),
            "parts": {k: v for k, v in self.parts.items() if np.isfinite(v)}, "data": self.data,
            "evidence_set": c.evidence,
        }
        if iv is not None:
            out.update(effect=iv.point if np.isfinite(iv.point) else None,
                       interval=[iv.low, iv.high] if iv.defined else None, level=iv.level, n_seeds=iv.n_seeds,
                       resampling={"unit": self.unit, "units_per_stratum": iv.units,
                                   "n_resamples": iv.n_resamples, "method": iv.method})
        if c.paper_effect is not None:
            out["paper_effect"] = c.paper_effect
            out["paper_note"] = c.paper_note
        if c.protocol:
            out["protocol"] = c.protocol
        if self.reason:
            out["reason"] = self.reason
        return out


def _as_runs(evidence: Mapping[str, Evidence] | Sequence[Mapping[str, Evidence]]) -> list[Mapping[str, Evidence]]:
    return [evidence] if isinstance(evidence, Mapping) else list(evidence)


def judge(claim: Claim, evidence: Mapping[str, Evidence] | Sequence[Mapping[str, Evidence]], seed: int = 0,
          n_resamples: int = 1000, level: float = 0.95) -> Verdict:
    """Judge ``claim`` on one run's evidence (``{name: Evidence}``) or on several runs' (a list).

    The bootstrap's generator comes from ``child_seed(seed, "claims/<id>")``: the same
    inputs give the same interval.
    """
    runs = _as_runs(evidence)
    have = [r[claim.evidence] for r in runs if claim.evidence in r]
    if not have:
        return Verdict(claim, "not run", None, f"this run produced no {claim.evidence!r} evidence")
    data = ", ".join(sorted({e.data for e in have}))
    if claim.check is not None:
        reasons = [r for r in (claim.check(e) for e in have) if r]
        if reasons:
            point = float(np.mean([claim.effect(e.arrays) for e in have]))
            parts = getattr(claim.effect, "parts", lambda a: {})(have[0].arrays)
            iv = Interval(point, np.nan, np.nan, level, 0, "none (run unfit to judge)", len(have), have[0].unit_counts())
            return Verdict(claim, "inconclusive", iv, "; ".join(sorted(set(reasons))), parts, data, have[0].unit)
    rng = np.random.default_rng(child_seed(seed, f"claims/{claim.id}"))
    iv = bootstrap_effect(claim.effect, have, rng, n_resamples=n_resamples, level=level)
    verdict = decide(claim.direction, claim.margin, iv.low, iv.high)
    reason = "" if iv.defined else "the effect is undefined on some resamples"
    parts = getattr(claim.effect, "parts", lambda a: {})(have[0].arrays) if len(have) == 1 else {}
    return Verdict(claim, verdict, iv, reason, parts, data, have[0].unit)


def judge_all(claims: Sequence[Claim], evidence: Mapping[str, Evidence] | Sequence[Mapping[str, Evidence]],
              seed: int = 0, n_resamples: int = 1000, level: float = 0.95) -> list[Verdict]:
    """:func:`judge` every claim (in declaration order); ids must be unique."""
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids must be unique, got {ids}")
    return [judge(c, evidence, seed, n_resamples, level) for c in claims]


def interval_of(verdicts: Sequence[Verdict], claim_id: str) -> tuple[float, float, float]:
    """``(estimate, low, high)`` of claim ``claim_id``'s effect in ``verdicts``; NaNs where it has no
    interval (not run, or no evidence).

    Raises:
        KeyError: no verdict has that claim id.
    """
    found = next((v for v in verdicts if v.claim.id == claim_id), None)
    if found is None:
        raise KeyError(f"no verdict for claim {claim_id!r}; have {[v.claim.id for v in verdicts]}")
    iv = found.interval
    return (np.nan, np.nan, np.nan) if iv is None else (float(iv.point), float(iv.low), float(iv.high))

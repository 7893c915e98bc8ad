"""Disclosure rules (secret statistique) as a convention states them.

Pure data and the rule for combining them; the suppression itself is the
hub's business. Defaults follow French practice for counts of persons or
households (the "règle des 11"):

- `k` = 11: a count between 1 and k-1 is secret (0 is published);
- `complement` on: the same test on denominator - numerator for a share of
  one dataset;
- `min_denominator` = 50: a rate over fewer units is secret;
- `dominance` = 0.85: an amount is secret when its largest contributor makes
  more than this share of the total (and it has fewer than k contributors);
- `secondary_suppression` on: no secret cell may be recovered by subtraction;
- `revisions: audit`: a period already published may be released again (a
  corrected drop), the new release audited against the old one: a cell
  secret before stays secret, and no change between the two can be isolated
  below k; `freeze`: a published period is never released again.

A cell is governed by every convention that contributes to it, so the rules
in force are `strictest(...)` of theirs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_K = 11
DEFAULT_MIN_DENOMINATOR = 50
DEFAULT_DOMINANCE = 0.85


class DisclosureRules(BaseModel):
    """The secret statistique a convention imposes on what derives from its data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(default=DEFAULT_K, ge=1, description="minimum published count")
    complement: bool = Field(default=True, description="test denominator - numerator too")
    min_denominator: int = Field(default=DEFAULT_MIN_DENOMINATOR, ge=0)
    dominance: float = Field(
        default=DEFAULT_DOMINANCE,
        gt=0.0,
        le=1.0,
        description="largest contributor's maximum share of an amount",
    )
    secondary_suppression: bool = True
    revisions: Literal["audit", "freeze"] = "audit"


DEFAULT_RULES = DisclosureRules()


def strictest(first: DisclosureRules, *others: DisclosureRules) -> DisclosureRules:
    """The rules that satisfy every one given: the largest k and minimum
    denominator, the smallest dominance threshold, each test on if any asks."""
    every = (first, *others)
    return DisclosureRules(
        k=max(r.k for r in every),
        complement=any(r.complement for r in every),
        min_denominator=max(r.min_denominator for r in every),
        dominance=min(r.dominance for r in every),
        secondary_suppression=any(r.secondary_suppression for r in every),
        revisions="freeze" if any(r.revisions == "freeze" for r in every) else "audit",
    )

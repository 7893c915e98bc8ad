"""Where each convention stands at an instant: in force, superseded, ended or a draft.

`survey(conventions, keys, revocations, instant)` is pure (no clock, no
file) and gives every convention version one `Standing`:

| standing | when | reason code of a drop under it |
| --- | --- | --- |
| `in_force` | signed by both with trusted keys, valid now, highest such version | — |
| `superseded` | a later version of the same id is in force | `convention_superseded` |
| `expired` | its last day has passed, no later version in force | `convention_expired` |
| `revoked` | a verified revocation, or a party's key left the trust store | `convention_revoked` |
| `draft` | not signed by both, tampered, wrong key, not yet valid | `convention_not_applicable` |
| `draft` | its territory overlaps another id's for a dataset | `territory_overlap` |

A draft is never applied: it is not provisioned, and it changes nothing
for consumers (`Survey.providers` ignores it). An ended convention (expired
or revoked) still counts: everything derived from its data stops, and the
reason says why. An id is represented by its in-force version, else by its
latest ended version, else not at all (drafts only).

Two conventions with different ids that provide one dataset must cover
disjoint territories (counts of a dataset add up over conventions): of two
that overlap, the one that starts later (then the larger id) is a draft
with reason `territory_overlap`, naming the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.convention import Convention, require_aware
from contracts.keys import TrustStore
from contracts.revocation import Revocation
from contracts.status import StatusCode, signature_problems, validity_problems


class Standing(StrEnum):
    IN_FORCE = "in_force"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    REVOKED = "revoked"
    DRAFT = "draft"


ENDED = frozenset({Standing.EXPIRED, Standing.REVOKED})

# Signature problems that make a draft: the text is not the one both parties signed
# with their trusted keys. Only a key absent from the trust store (`untrusted_party`)
# is read as a withdrawal, i.e. a revocation.
_DRAFT_CODES = frozenset(
    {
        StatusCode.UNSIGNED,
        StatusCode.MALFORMED_SIGNATURE,
        StatusCode.UNEXPECTED_SIGNATURE,
        StatusCode.TAMPERED,
        StatusCode.WRONG_KEY,
    }
)


@dataclass(frozen=True)
class Status:
    """One convention version's standing, the reason code for its drops, and why."""

    convention: Convention
    standing: Standing
    reason: str  # "" when in force
    message: str
    cause: str = ""  # what made it so: unsigned, tampered, not_yet_valid, key_withdrawn…

    @property
    def in_force(self) -> bool:
        return self.standing is Standing.IN_FORCE

    @property
    def ref(self) -> str:
        return self.convention.ref


def _revocation_for(
    convention: Convention, keys: TrustStore, revocations: Iterable[Revocation]
) -> Revocation | None:
    """The first revocation that covers `convention` and verifies under its hub operator's key."""
    operator = convention.parties.hub_operator
    for revocation in revocations:
        if (
            revocation.covers(convention.id, convention.version)
            and revocation.hub_operator == operator
            and operator in keys
            and revocation.verifies(keys[operator])
        ):
            return revocation
    return None


def _own_status(
    convention: Convention, keys: TrustStore, revocations: Iterable[Revocation], instant: datetime
) -> Status:
    """The standing of one version taken alone (before versions and overlaps are compared)."""
    revocation = _revocation_for(convention, keys, revocations)
    if revocation is not None:
        when = revocation.revoked_at.date().isoformat()
        return Status(
            convention,
            Standing.REVOKED,
            "convention_revoked",
            f"{convention.ref} revoked by {revocation.hub_operator} on {when}: {revocation.reason}",
            "revoked_by_operator",
        )
    problems = signature_problems(convention, keys)
    draft = [p for p in problems if p.code in _DRAFT_CODES]
    if draft:
        return Status(
            convention,
            Standing.DRAFT,
            "convention_not_applicable",
            f"{convention.ref} is a draft: {draft[0].message}",
            str(draft[0].code),
        )
    if problems:  # signed by both, but a key is no longer trusted: withdrawn
        # Named by party, not by the key store: a message may reach a partner (drop
        # receipts) or a consumer, and a server path must not.
        withdrawn = ", ".join(p for p in convention.signers if p not in keys)
        return Status(
            convention,
            Standing.REVOKED,
            "convention_revoked",
            f"{convention.ref} revoked by key withdrawal: no trusted public key for {withdrawn}",
            "key_withdrawn",
        )
    timing = validity_problems(convention, instant)
    if timing and timing[0].code == StatusCode.NOT_YET_VALID:
        return Status(
            convention,
            Standing.DRAFT,
            "convention_not_applicable",
            f"{convention.ref} is {timing[0].message}",
            "not_yet_valid",
        )
    if timing:
        return Status(
            convention,
            Standing.EXPIRED,
            "convention_expired",
            f"{convention.ref} {timing[0].message}",
            "expired",
        )
    return Status(convention, Standing.IN_FORCE, "", f"{convention.ref} in force")


@dataclass(frozen=True)
class Survey:
    """Every convention version's standing at one instant."""

    instant: datetime
    statuses: tuple[Status, ...]

    def of(self, convention_id: str, version: int) -> Status | None:
        return next(
            (
                s
                for s in self.statuses
                if s.convention.id == convention_id and s.convention.version == version
            ),
            None,
        )

    def versions(self, convention_id: str) -> list[Status]:
        return sorted(
            (s for s in self.statuses if s.convention.id == convention_id),
            key=lambda s: s.convention.version,
        )

    def current(self, convention_id: str) -> Status | None:
        """What stands for the id: its version in force, else its latest ended one."""
        return _representative(self.versions(convention_id))

    def ids(self) -> list[str]:
        return sorted({s.convention.id for s in self.statuses})

    def representatives(self) -> list[Status]:
        """One status per id that is not only drafts, by id."""
        return [s for i in self.ids() if (s := self.current(i)) is not None]

    def in_force(self) -> list[Convention]:
        return [s.convention for s in self.statuses if s.in_force]

    def drafts(self) -> list[Status]:
        return [s for s in self.statuses if s.standing is Standing.DRAFT]

    def providers(self, dataset_id: str) -> list[Status]:
        """The representative of every id that provides `dataset_id` (drafts ignored)."""
        return [s for s in self.representatives() if s.convention.provides(dataset_id)]

    def judge(self, convention_id: str, version: int) -> Status | None:
        """The status a drop under (id, version) meets; None if the id is unknown.

        A version the hub does not hold, older than one it holds, is an
        outdated copy: superseded, not unknown.
        """
        status = self.of(convention_id, version)
        if status is not None:
            return status
        newer = [s for s in self.versions(convention_id) if s.convention.version > version]
        if not newer:
            return None
        latest = newer[-1]
        return Status(
            latest.convention,
            Standing.SUPERSEDED,
            "convention_superseded",
            f"{convention_id} v{version} is not held by the hub; "
            f"the convention is now at v{latest.convention.version}",
            "outdated_copy",
        )


def _overlaps(statuses: list[Status]) -> dict[tuple[str, int], Status]:
    """Drafts made by territory overlaps: the later of two overlapping ids loses."""
    ranked = sorted(statuses, key=lambda s: (s.convention.validity.valid_from, s.convention.id))
    losers: dict[tuple[str, int], Status] = {}
    kept: list[Status] = []
    for status in ranked:
        clash = _first_clash(status.convention, [k.convention for k in kept])
        if clash is None:
            kept.append(status)
            continue
        other, dataset = clash
        convention = status.convention
        losers[(convention.id, convention.version)] = Status(
            convention,
            Standing.DRAFT,
            "territory_overlap",
            f"{convention.ref} and {other.ref} both cover {dataset} in the same communes",
            "territory_overlap",
        )
    return losers


def _first_clash(
    convention: Convention, others: Sequence[Convention]
) -> tuple[Convention, str] | None:
    for other in others:
        clash = overlap(convention, other)
        if clash is not None:
            return other, clash
    return None


def overlap(one: Convention, other: Convention) -> str | None:
    """A dataset both provide for a common commune (different ids only), or None."""
    if one.id == other.id:
        return None
    for dataset, terms in sorted(one.datasets.items()):
        theirs = other.datasets.get(dataset)
        if theirs is not None and set(terms.territory) & set(theirs.territory):
            return dataset
    return None


def survey(
    conventions: Sequence[Convention],
    keys: TrustStore,
    revocations: Sequence[Revocation],
    instant: datetime,
) -> Survey:
    """Every version's standing at `instant` (timezone-aware); see the module docstring."""
    require_aware(instant)
    own = [_own_status(c, keys, revocations, instant) for c in conventions]
    by_id: dict[str, list[Status]] = {}
    for status in own:
        by_id.setdefault(status.convention.id, []).append(status)
    result: dict[tuple[str, int], Status] = {}
    for versions in by_id.values():
        versions.sort(key=lambda s: s.convention.version)
        live = [s for s in versions if s.in_force]
        top = live[-1].convention.version if live else None
        for status in versions:
            convention = status.convention
            if (
                top is not None
                and convention.version < top
                and status.standing is not Standing.REVOKED
            ):
                status = Status(
                    convention,
                    Standing.SUPERSEDED,
                    "convention_superseded",
                    f"{convention.ref} is superseded by v{top}",
                    "renewed",
                )
            result[(convention.id, convention.version)] = status
    # Overlaps are judged between what stands for each id (in force or ended).
    ids = {i for i, _ in result}
    standing = [
        s
        for i in sorted(ids)
        if (s := _representative([v for (j, _), v in result.items() if j == i])) is not None
    ]
    result.update(_overlaps(standing))
    ordered = sorted(result.values(), key=lambda s: (s.convention.id, s.convention.version))
    return Survey(instant, tuple(ordered))


def _representative(versions: Sequence[Status]) -> Status | None:
    """What stands for an id: its version in force, else its latest ended one."""
    ordered = sorted(versions, key=lambda s: s.convention.version)
    live = [s for s in ordered if s.in_force]
    if live:
        return live[-1]
    ended = [s for s in ordered if s.standing in ENDED]
    return ended[-1] if ended else None

"""The state of one partner drop, as the ingest core reads and writes it.

A drop is `open` until its trailer closes it `accepted`, or until anything
(its header, a chunk, its trailer, a timeout) closes it `rejected`. What a
`DropState` holds depends on that status:

- every state: who and what the drop is (`drop_id` … `period`), how many of
  its messages were read (`messages`) and when the last one was (`last_seen`);
- an open state: what checks the drop as it comes — the header's bytes (the
  partner signs them), its ephemeral key, each counted chunk's plaintext
  digest, the records received and the partial aggregate (`accumulator`,
  `hub.aggregation.DropAccumulator.to_state`);
- a closed state: when it closed (`closed_at`) and how — `reason` and
  `detail` when rejected, the records aggregated (`records`) and the
  idempotent repeats of its header (`repeats`) when accepted; no counts.

A field that does not belong to the status keeps its default (checked on
construction), so `to_json` writes exactly the keys of the status and
`from_json(state.to_json()) == state`. The worker's `drop-states` table
stores the `to_json` dicts; `from_json` reads them, including those written
before this type existed (the same keys).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DropStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


_CLOSED = frozenset({DropStatus.ACCEPTED, DropStatus.REJECTED})


@dataclass(frozen=True)
class DropState:
    """One drop's state (see the module docstring); build a new one to change it."""

    status: DropStatus
    drop_id: str
    partner: str
    topic: str
    convention_id: str
    convention_version: int
    dataset: str
    period: str
    messages: int  # messages of the drop read, repeats included
    last_seen: float  # POSIX time of its last message
    # open drops only
    schema_version: int = 0
    header: str = ""  # the header message's bytes, base64
    ephemeral_key: str = ""  # the header's ephemeral public key, hex
    digests: Mapping[str, str] = field(default_factory=dict)  # chunk sequence -> sha256, hex
    records_received: int = 0
    opened_at: float = 0.0
    accumulator: Mapping[str, Any] = field(default_factory=dict)  # DropAccumulator.to_state()
    # closed drops only
    closed_at: float | None = None
    reason: str = ""  # rejected
    detail: str = ""  # rejected
    records: int = 0  # accepted: records aggregated
    repeats: int = 0  # accepted: headers received again since

    def __post_init__(self) -> None:
        if not isinstance(self.status, DropStatus):
            object.__setattr__(self, "status", DropStatus(self.status))
        for name in _BELONGS:
            if not _belongs(name, self.status) and getattr(self, name) != _DEFAULTS[name]:
                raise ValueError(f"a {self.status} drop state has no {name}")
        if self.status in _CLOSED and self.closed_at is None:
            raise ValueError(f"a {self.status} drop state needs closed_at")

    @property
    def is_open(self) -> bool:
        return self.status is DropStatus.OPEN

    def is_stale(self, now: dt.datetime, timeout_s: float) -> bool:
        """Open, with no message for `timeout_s` seconds."""
        return self.is_open and now.timestamp() - self.last_seen >= timeout_s

    def touched(self, now: dt.datetime) -> DropState:
        """One more message of the (open) drop, read at `now`."""
        return dataclasses.replace(self, messages=self.messages + 1, last_seen=now.timestamp())

    def counted(self) -> DropState:
        """One more message of the (rejected) drop; it is not seen as alive."""
        return dataclasses.replace(self, messages=self.messages + 1)

    def repeated(self) -> DropState:
        """The (accepted) drop's header received again."""
        return dataclasses.replace(self, repeats=self.repeats + 1)

    def closed(
        self,
        status: DropStatus,
        now: dt.datetime,
        messages: int,
        *,
        reason: str = "",
        detail: str = "",
        records: int = 0,
    ) -> DropState:
        """What the drop keeps once closed: who and what it was, how it ended; no counts."""
        stamp = now.timestamp()
        return DropState(
            status=status,
            drop_id=self.drop_id,
            partner=self.partner,
            topic=self.topic,
            convention_id=self.convention_id,
            convention_version=self.convention_version,
            dataset=self.dataset,
            period=self.period,
            messages=messages,
            last_seen=stamp,
            closed_at=stamp,
            reason=reason,
            detail=detail,
            records=records,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: the keys of the status (`repeats` once there is one)."""
        out: dict[str, Any] = {"status": self.status.value}
        for name in _FIELDS:
            if name == "status" or not _belongs(name, self.status):
                continue
            if name == "repeats" and not self.repeats:
                continue
            value = getattr(self, name)
            out[name] = dict(value) if isinstance(value, Mapping) else value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DropState:
        """The state `to_json` (or the dict-based ingest before it) wrote.

        Keys of another status than the dict's are ignored; a key of its
        status that is missing takes its default.
        """
        try:
            status = DropStatus(data["status"])
            values: dict[str, Any] = {name: data[name] for name in _REQUIRED}
        except KeyError as exc:
            raise ValueError(f"a drop state without {exc}") from exc
        for name in _BELONGS:
            if _belongs(name, status) and name in data:
                values[name] = data[name]
        for name in _INTS & values.keys():
            values[name] = int(values[name])
        for name in _FLOATS & values.keys():
            values[name] = float(values[name])
        if "digests" in values:
            values["digests"] = {str(s): str(d) for s, d in values["digests"].items()}
        if "accumulator" in values:
            values["accumulator"] = dict(values["accumulator"])
        return cls(status=status, **values)


_FIELDS = tuple(f.name for f in dataclasses.fields(DropState))
_REQUIRED = (
    "drop_id",
    "partner",
    "topic",
    "convention_id",
    "convention_version",
    "dataset",
    "period",
    "messages",
    "last_seen",
)
_OPEN_ONLY = frozenset({DropStatus.OPEN})
_BELONGS: dict[str, frozenset[DropStatus]] = {
    "schema_version": _OPEN_ONLY,
    "header": _OPEN_ONLY,
    "ephemeral_key": _OPEN_ONLY,
    "digests": _OPEN_ONLY,
    "records_received": _OPEN_ONLY,
    "opened_at": _OPEN_ONLY,
    "accumulator": _OPEN_ONLY,
    "closed_at": _CLOSED,
    "reason": frozenset({DropStatus.REJECTED}),
    "detail": frozenset({DropStatus.REJECTED}),
    "records": frozenset({DropStatus.ACCEPTED}),
    "repeats": frozenset({DropStatus.ACCEPTED}),
}
_DEFAULTS: dict[str, Any] = {
    f.name: f.default_factory() if callable(f.default_factory) else f.default
    for f in dataclasses.fields(DropState)
    if f.name in _BELONGS
}
_INTS = frozenset(
    {"convention_version", "messages", "schema_version", "records_received", "records", "repeats"}
)
_FLOATS = frozenset({"last_seen", "opened_at", "closed_at"})


def _belongs(name: str, status: DropStatus) -> bool:
    return name not in _BELONGS or status in _BELONGS[name]

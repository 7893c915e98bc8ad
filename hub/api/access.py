"""Who is asking, and may they have it: the API's gate, free of HTTP.

`AccessGate.authenticate` maps a bearer token to a consumer (scrypt runs in
a worker thread so the event loop keeps serving). `authorise` and `catalog`
resolve consent at the clock's instant, count the decision in
`obshub_access_requests_total` and put it on record before returning; a
decision that cannot be recorded raises `AuditUnavailableError`, and the
request is not served.

Metric labels stay bounded: an indicator id not in the catalog is counted
as `(unknown)`, a catalog request as `(catalog)`.

A decision's `message` is what the API may answer; its `detail` (which can
name the hub's files or quote a revocation) goes to the log only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.concurrency import run_in_threadpool

from contracts.consent import ConsentReason, Decision
from contracts.indicators import Indicator
from hub.api.auditing import CHANNEL, MAX_INDICATOR_LENGTH, AuditSink
from hub.api.errors import GovernanceError
from hub.api.governance import Governance
from hub.api.tokens import TokenStore
from hub.audit import access_event
from hub.metrics import HubMetrics

log = logging.getLogger(__name__)

CATALOG_LABEL = "(catalog)"
UNKNOWN_LABEL = "(unknown)"
NO_CONSENT = "no_consent"
GOVERNANCE_UNAVAILABLE = "governance_unavailable"


@dataclass(frozen=True)
class CatalogDecision:
    """A consumer's catalog: the indicators consent grants it on the API."""

    granted: tuple[Indicator, ...]
    denials: tuple[tuple[Indicator, Decision], ...]


class AccessGate:
    def __init__(
        self,
        tokens: TokenStore,
        governance: Governance,
        audit: AuditSink,
        metrics: HubMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.tokens = tokens
        self.governance = governance
        self.audit = audit
        self.metrics = metrics
        self.clock = clock

    async def authenticate(self, token: str | None) -> str | None:
        """The consumer the token belongs to, or None."""
        if not token:
            return None
        return await run_in_threadpool(self.tokens.verify, token)

    async def authorise(self, consumer: str, indicator_id: str) -> Decision:
        """Consent for one indicator, counted and on record."""
        instant = self.clock()
        try:
            decision = self.governance.decide(consumer, indicator_id, instant)
        except GovernanceError:
            await self._record(
                consumer, indicator_id, UNKNOWN_LABEL, instant, reason=GOVERNANCE_UNAVAILABLE
            )
            raise
        known = decision.reason is not ConsentReason.UNKNOWN_INDICATOR
        label = indicator_id if known else UNKNOWN_LABEL
        await self._record(consumer, indicator_id, label, instant, decision=decision)
        return decision

    async def catalog(self, consumer: str) -> CatalogDecision:
        """The consumer's catalog, counted and on record as one request."""
        instant = self.clock()
        try:
            decisions = self.governance.decide_all(consumer, instant)
        except GovernanceError:
            await self._record(
                consumer, None, CATALOG_LABEL, instant, reason=GOVERNANCE_UNAVAILABLE
            )
            raise
        granted = tuple(i for i, d in decisions if d.granted)
        denials = tuple((i, d) for i, d in decisions if not d.granted)
        reason = ConsentReason.GRANTED.value if granted else NO_CONSENT
        await self._record(
            consumer, None, CATALOG_LABEL, instant, granted=bool(granted), reason=reason
        )
        return CatalogDecision(granted, denials)

    async def _record(
        self,
        consumer: str,
        indicator: str | None,
        label: str,
        instant: datetime,
        *,
        decision: Decision | None = None,
        granted: bool = False,
        reason: str | None = None,
    ) -> None:
        if decision is not None:
            granted, reason = decision.granted, decision.reason.value
        asked = indicator[:MAX_INDICATOR_LENGTH] if indicator is not None else None
        conventions = decision.conventions if decision is not None else ()
        event = access_event(consumer, asked, granted, reason, CHANNEL, instant, conventions)
        verdict = "granted" if granted else "denied"
        self.metrics.access_requests.labels(consumer, label, verdict).inc()
        detail = decision.detail if decision is not None and not granted else ""
        log.info(
            "access consumer=%s indicator=%s decision=%s reason=%s%s",
            consumer,
            label,
            verdict,
            reason,
            f" detail={detail!r}" if detail else "",
        )
        await self.audit.record(event)

"""Errors of the access API.

HubError
 └─ AccessError                 the access API cannot do what was asked
     ├─ TokenStoreError         tokens.json is unreadable or malformed
     ├─ GovernanceError         conventions, catalog or keys cannot be read now
     └─ AuditUnavailableError   a decision could not be recorded on hub.audit

Each has the `reason` code the API answers 503 with; only `hub.api.app`
(status codes) and the CLI edge (exit codes) turn them into answers.
"""

from __future__ import annotations

from hub.errors import HubError
from schemas.errors import PlacedError


class AccessError(HubError):
    """Root of the access API's errors."""

    reason = "access_unavailable"


class TokenStoreError(PlacedError, AccessError):
    reason = "token_store_unavailable"
    label = "token store"


class GovernanceError(PlacedError, AccessError):
    reason = "governance_unavailable"
    label = "cannot read"


class AuditUnavailableError(AccessError):
    reason = "audit_unavailable"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"audit event not recorded: {detail}")

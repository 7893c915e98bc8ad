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

from pathlib import Path

from hub.errors import HubError


class AccessError(HubError):
    """Root of the access API's errors."""

    reason = "access_unavailable"


class TokenStoreError(AccessError):
    reason = "token_store_unavailable"

    def __init__(self, path: Path, detail: str) -> None:
        self.path, self.detail = path, detail
        super().__init__(f"token store {path}: {detail}")


class GovernanceError(AccessError):
    reason = "governance_unavailable"

    def __init__(self, what: str, detail: str) -> None:
        self.what, self.detail = what, detail
        super().__init__(f"cannot read {what}: {detail}")


class AuditUnavailableError(AccessError):
    reason = "audit_unavailable"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"audit event not recorded: {detail}")

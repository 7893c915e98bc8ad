"""Errors of the access API.

HubError
 └─ AccessError                 the access API cannot do what was asked
     ├─ TokenStoreError         tokens.json is unreadable or malformed
     ├─ GovernanceError         conventions, catalog or keys cannot be read now
     └─ AuditUnavailableError   a decision could not be recorded on hub.audit

Only `hub.api.app` (status codes) and `hub.cli` (exit codes) turn them into
answers.
"""

from __future__ import annotations

from pathlib import Path

from hub.errors import HubError


class AccessError(HubError):
    """Root of the access API's errors."""


class TokenStoreError(AccessError):
    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"token store {path}: {reason}")


class GovernanceError(AccessError):
    def __init__(self, what: str, reason: str) -> None:
        self.what, self.reason = what, reason
        super().__init__(f"cannot read {what}: {reason}")


class AuditUnavailableError(AccessError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"audit event not recorded: {reason}")

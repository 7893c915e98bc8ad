"""The root of obshub's settings classes: every `OBSHUB_*` variable is a field of one.

`HubSettings` (hub), `ConnectorSettings` (a partner's connector) and
`GovernanceSettings` (the convention verbs) derive from `ObshubSettings`;
nothing else in the project reads the environment.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ObshubSettings(BaseSettings):
    """What every obshub process reads: the log level."""

    model_config = SettingsConfigDict(env_prefix="OBSHUB_", frozen=True, extra="ignore")

    log_level: str = Field("WARNING", description="DEBUG, INFO, WARNING or ERROR")

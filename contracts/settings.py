"""Where the convention verbs find conventions and keys (`OBSHUB_*` variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from contracts.paths import DEMO_DIR
from schemas.settings import ObshubSettings


class GovernanceSettings(ObshubSettings):
    """The conventions directory and the key directory (trust store).

    Defaults: the checkout's deploy/demo, else ./deploy/demo (`contracts.paths`).
    The hub's settings extend these.
    """

    conventions_dir: Path = Field(DEMO_DIR / "conventions")
    keys_dir: Path = Field(DEMO_DIR / "keys", description="trust store (<party>.pub)")

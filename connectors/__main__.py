"""`obshub-connector` (and `python -m connectors`): the connector's verbs alone.

The same commands as `obshub connector …`, for a partner's scheduled job.
It imports nothing of the hub: a connector-only install
(`pip install 'obshub[connector]'`) runs it as it runs `obshub connector`.
"""

from __future__ import annotations

from connectors.cli import app
from schemas.cli_edge import configure_logging


def main() -> None:
    configure_logging()
    app(prog_name="obshub-connector")


if __name__ == "__main__":
    main()

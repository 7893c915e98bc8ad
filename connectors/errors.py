"""Errors of the partner side.

ConnectorError
 └─ (subclasses are added beside the code that raises them)

`ObshubError` (in `schemas.errors`) is the root of `ConnectorError`: every
error has a short `reason` code, and the CLI edge (`schemas.cli_edge`) turns
it into one line and an exit code.
"""

from schemas.errors import ObshubError


class ConnectorError(ObshubError):
    """Root of every error raised by `connectors`."""

    reason = "connector_error"

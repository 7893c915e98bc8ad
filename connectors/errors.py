"""Errors of the partner side.

ConnectorError
 └─ (subclasses are added beside the code that raises them)
"""


class ConnectorError(Exception):
    """Root of every error raised by `connectors`."""

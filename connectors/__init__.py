"""obshub connectors."""

from connectors.errors import ConnectorError

__all__ = ["ConnectorError"]

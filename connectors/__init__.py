"""obshub connectors: the partner side, from an extract to a sealed drop on Kafka."""

from connectors.errors import ConnectorError

__version__ = "0.1.0"
__all__ = ["ConnectorError", "__version__"]

"""obshub hub: the stream processors, the access layer and the stack runner."""

from hub.errors import HubError

__all__ = ["HubError"]

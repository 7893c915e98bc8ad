"""The embedded stack: Kafka from Maven jars, and the hub's own processes.

`obshub up` / `down` / `status` are thin wrappers over `Stack`.
"""

from hub.stack.runner import Stack, StackStatus, private_settings

__all__ = ["Stack", "StackStatus", "private_settings"]

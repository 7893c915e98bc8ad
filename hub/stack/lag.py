"""Consumer lag of the hub's group on the partner topics.

Defined in `hub.kafka_admin`, which the worker imports without the stack
runner; re-exported here for `obshub status` and the stack's callers.
"""

from __future__ import annotations

from hub.kafka_admin import compute_lag as compute_lag
from hub.kafka_admin import group_lag as group_lag
from hub.kafka_admin import topics_with_prefix as topics_with_prefix

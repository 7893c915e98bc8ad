"""Errors of the wire layer.

SchemaError
 └─ (subclasses are added beside the code that raises them)
"""


class SchemaError(Exception):
    """Root of every error raised by `schemas`."""

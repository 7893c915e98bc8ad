"""Errors of the governance layer.

ContractError
 └─ (subclasses are added beside the code that raises them)
"""


class ContractError(Exception):
    """Root of every error raised by `contracts`."""

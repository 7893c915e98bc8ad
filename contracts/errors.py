"""Errors of the governance layer.

ContractError
 ├─ PrincipalNameError          (principals) a partner or consumer name breaks the naming rule
 ├─ CredentialsFileError        (principals) a Kafka client properties file is unusable
 ├─ PeriodError                 (periods) a drop period not in its cadence's form
 ├─ DocumentError               a governance document is not valid; carries its `problems`
 │   ├─ DocumentFileError       unreadable, not YAML, a duplicate key, not a mapping
 │   ├─ ConventionFormatError   a convention does not match the convention model
 │   ├─ FieldPolicyError        field policies do not fit the dataset schemas of the catalog
 │   ├─ ConventionSetError      two files declare the same convention id and version
 │   ├─ IndicatorFormatError    the indicator catalog does not match the indicator model
 │   └─ IndicatorBindingError   an indicator needs a dataset or field no convention provides
 ├─ KeyFileError                a key file is missing, unreadable, of the wrong kind, or exists
 ├─ SigningError                a signature cannot be added to a convention file
 └─ InstantError                an instant without a timezone

Every class has a short `reason` code (`ObshubError`, in `schemas.errors`,
is the root of `ContractError`). A `DocumentError` holds one or more
`Problem`s (file, line, field path, code, message, convention id); its text
is one line per problem, so the CLI prints it as it is. Status problems of a
well-formed convention (unsigned, tampered, expired…) are not raised:
`contracts.status.assess` returns them.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.problems import Problem, format_problems
from schemas.errors import ObshubError, PlacedError


class ContractError(ObshubError):
    """Root of every error raised by `contracts`."""

    reason = "contract_error"


class DocumentError(ContractError):
    """A convention or indicator catalog is not valid."""

    reason = "invalid_document"

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("a DocumentError needs at least one problem")
        self.problems = tuple(problems)
        first = self.problems[0]
        self.file, self.line, self.field = first.file, first.line, first.field
        self.convention_id = first.convention_id
        super().__init__(format_problems(self.problems))


class DocumentFileError(DocumentError):
    """The file cannot be read or is not a YAML mapping without duplicate keys."""

    reason = "unreadable_document"


class ConventionFormatError(DocumentError):
    """A convention does not match the convention model."""

    reason = "invalid_convention"


class FieldPolicyError(DocumentError):
    """A convention's field policies do not fit the dataset schemas."""

    reason = "invalid_field_policy"


class ConventionSetError(DocumentError):
    """Conventions that cannot be loaded together (same id and version twice)."""

    reason = "duplicate_convention"


class IndicatorFormatError(DocumentError):
    """The indicator catalog does not match the indicator model."""

    reason = "invalid_indicator_catalog"


class IndicatorBindingError(DocumentError):
    """An indicator needs a dataset, field or value that the conventions do not provide."""

    reason = "unbound_indicator"


class KeyFileError(PlacedError, ContractError):
    reason = "bad_key_file"


class SigningError(ContractError):
    reason = "cannot_sign"

    def __init__(self, file: str, party: str, detail: str) -> None:
        self.file, self.party, self.detail = file, party, detail
        super().__init__(f"{file}: signatures.{party}: {detail}")


class InstantError(ContractError):
    reason = "no_timezone"

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(
            f"instant {value!r} has no timezone: give one, e.g. 2026-01-01T00:00:00+01:00"
        )

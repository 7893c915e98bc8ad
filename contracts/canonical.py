"""The canonical form of a convention: the bytes its parties sign.

It is the validated model's content, signatures left out, defaults included
(the parties sign the rules that will be applied, not only those they
wrote): `model_dump(mode="json")` (dates as ISO `YYYY-MM-DD`, enums as their
values, sets already sorted by the model), strings in Unicode NFC, then JSON
with sorted keys, no whitespace, UTF-8. YAML layout, key order, quoting,
comments and shorthands (`keep` or `{policy: keep}`) do not change it; any
change of meaning does.

What is signed is `SIGNING_CONTEXT` followed by those bytes. The prefix
separates convention signatures from anything else a party signs with the
same key (the partner's drop trailers, for one): a signature over a
convention can never pass for another kind of signature, nor the reverse.
Consequence to know: a new model field, or a changed default, changes the
canonical form of every convention, so existing signatures stop verifying
until the parties sign again. That is deliberate, with one exception: the
fields of `LATER_DATASET_FIELDS` and `LATER_DISCLOSURE_FIELDS` (a
dataset's `crs`, the `revisions` rule) are left out while they hold their
default, so adding them broke no signature.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from contracts.convention import Convention

SIGNING_CONTEXT = b"obshub/convention/v1\x00"


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


# Fields added to the model after conventions were signed: left out of the
# canonical form while they hold their default, so that every convention signed
# before them still verifies, and signed like any other field once set.
LATER_DATASET_FIELDS = {"crs": "EPSG:4326"}
LATER_DISCLOSURE_FIELDS = {"revisions": "audit"}


def canonical_content(convention: Convention) -> dict[str, Any]:
    """The convention's content without its signatures, as JSON-ready data."""
    data: dict[str, Any] = _nfc(convention.model_dump(mode="json", exclude={"signatures"}))
    sections = [*data.get("datasets", {}).values()], [data.get("disclosure") or {}]
    for later, parts in zip((LATER_DATASET_FIELDS, LATER_DISCLOSURE_FIELDS), sections, strict=True):
        for part in parts:
            for name, default in later.items():
                if part.get(name) == default:
                    del part[name]
    return data


def canonical_bytes(convention: Convention) -> bytes:
    """Sorted-key compact UTF-8 JSON of `canonical_content`."""
    return json.dumps(
        canonical_content(convention),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def signing_message(convention: Convention) -> bytes:
    """The exact bytes each party signs: the context prefix, then the canonical form."""
    return SIGNING_CONTEXT + canonical_bytes(convention)

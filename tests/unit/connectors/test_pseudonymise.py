from hypothesis import given
from hypothesis import strategies as st

from connectors.pseudonymise import Pseudonymiser

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


@given(st.text(min_size=1, max_size=40))
def test_pseudonyms_are_stable_under_one_key_and_differ_under_another(identifier: str) -> None:
    a1, a2, b = Pseudonymiser(KEY_A), Pseudonymiser(KEY_A), Pseudonymiser(KEY_B)
    assert a1.pseudonym(identifier) == a2.pseudonym(identifier)
    assert a1.pseudonym(identifier) != b.pseudonym(identifier)
    assert len(a1.pseudonym(identifier)) == 64 and int(a1.pseudonym(identifier), 16) >= 0


@given(st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=20, unique=True))
def test_distinct_identifiers_get_distinct_pseudonyms(identifiers: list[str]) -> None:
    p = Pseudonymiser(KEY_A)
    assert len({p.pseudonym(i) for i in identifiers}) == len(identifiers)


def test_known_vector() -> None:
    # HMAC-SHA256 with key 00..1f over "123"; computed independently with openssl:
    # printf 123 | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f (run here)
    assert Pseudonymiser(KEY_A).pseudonym("123") == (
        "e7c5538a4b15664ed667e05be3c25040fe6e433fbbc33c0cb5a85dfc09d9766c"
    )


@given(st.binary(min_size=1, max_size=100), st.text(max_size=50))
def test_equals_the_standard_library_hmac(secret: bytes, identifier: str) -> None:
    import hashlib
    import hmac

    expected = hmac.new(secret, identifier.encode(), hashlib.sha256).hexdigest()
    assert Pseudonymiser(secret).pseudonym(identifier) == expected

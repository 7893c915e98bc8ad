from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.errors import KeyFormatError, SealError
from schemas.sealing import (
    DropOpener,
    DropSealer,
    chunk_associated_data,
    generate_hub_keypair,
    load_x25519_private,
)

HUB_PRIVATE, HUB_PUBLIC = generate_hub_keypair()
HUB_KEY = load_x25519_private(HUB_PRIVATE)
DROP = "caf33-2024-04-0001"


def _opener(sealer: DropSealer, drop_id: str = DROP) -> DropOpener:
    return DropOpener(HUB_KEY, sealer.ephemeral_public_key, drop_id)


@settings(max_examples=50)
@given(
    drop_id=st.text(min_size=1, max_size=40),
    chunks=st.lists(st.binary(max_size=2048), min_size=1, max_size=5),
)
def test_sealed_chunks_open_to_their_plaintext(drop_id: str, chunks: list[bytes]) -> None:
    sealer = DropSealer(HUB_PUBLIC, drop_id)
    sealed = [sealer.seal(sequence, plaintext) for sequence, plaintext in enumerate(chunks)]
    opener = _opener(sealer, drop_id)
    opened = [opener.open(seq, nonce, ct) for seq, (nonce, ct) in enumerate(sealed)]
    assert opened == chunks
    for (nonce, ciphertext), plaintext in zip(sealed, chunks, strict=True):
        assert len(nonce) == 12 and len(ciphertext) == len(plaintext) + 16


def test_keys_and_nonces_are_fresh() -> None:
    first, second = DropSealer(HUB_PUBLIC, DROP), DropSealer(HUB_PUBLIC, DROP)
    assert len(first.ephemeral_public_key) == 32
    assert first.ephemeral_public_key != second.ephemeral_public_key
    assert first.seal(0, b"same")[0] != first.seal(0, b"same")[0]
    assert first.seal(0, b"same")[1] != second.seal(0, b"same")[1]


def _sealed() -> tuple[DropSealer, list[tuple[bytes, bytes]]]:
    sealer = DropSealer(HUB_PUBLIC, DROP)
    return sealer, [sealer.seal(0, b"block zero" * 10), sealer.seal(1, b"block one" * 10)]


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("index", [0, 5, -1])
def test_a_flipped_ciphertext_byte_does_not_open(index: int) -> None:
    sealer, [(nonce, ciphertext), _] = _sealed()
    with pytest.raises(SealError) as info:
        _opener(sealer).open(0, nonce, _flip(ciphertext, index % len(ciphertext)))
    assert (info.value.drop_id, info.value.sequence) == (DROP, 0)


def test_a_flipped_nonce_byte_does_not_open() -> None:
    sealer, [(nonce, ciphertext), _] = _sealed()
    with pytest.raises(SealError):
        _opener(sealer).open(0, _flip(nonce, 3), ciphertext)
    with pytest.raises(SealError, match="nonce is 11 bytes"):
        _opener(sealer).open(0, nonce[:11], ciphertext)


def test_swapped_sequence_numbers_do_not_open() -> None:
    sealer, [(nonce0, ct0), (nonce1, ct1)] = _sealed()
    opener = _opener(sealer)
    with pytest.raises(SealError) as info:
        opener.open(1, nonce0, ct0)
    assert info.value.sequence == 1
    with pytest.raises(SealError):
        opener.open(0, nonce1, ct1)


def test_a_chunk_replayed_under_another_drop_does_not_open() -> None:
    sealer, [(nonce, ciphertext), _] = _sealed()
    with pytest.raises(SealError) as info:
        _opener(sealer, "caf33-2024-04-0002").open(0, nonce, ciphertext)
    assert info.value.drop_id == "caf33-2024-04-0002"
    # even with another drop's ephemeral key, under the original drop id
    other = DropSealer(HUB_PUBLIC, DROP)
    with pytest.raises(SealError):
        _opener(other).open(0, nonce, ciphertext)


def test_the_wrong_hub_key_does_not_open() -> None:
    sealer, [(nonce, ciphertext), _] = _sealed()
    wrong = load_x25519_private(generate_hub_keypair()[0])
    with pytest.raises(SealError, match="sealed for another key"):
        DropOpener(wrong, sealer.ephemeral_public_key, DROP).open(0, nonce, ciphertext)


def test_malformed_keys_and_sequences() -> None:
    with pytest.raises(KeyFormatError, match="31 bytes"):
        DropSealer(HUB_PUBLIC[:31], DROP)
    with pytest.raises(KeyFormatError):
        load_x25519_private(b"short")
    with pytest.raises(SealError, match="ephemeral public key: 3 bytes"):
        DropOpener(HUB_KEY, b"abc", DROP)
    with pytest.raises(SealError, match="key agreement failed"):
        DropOpener(HUB_KEY, bytes(32), DROP)  # a low-order point
    sealer = DropSealer(HUB_PUBLIC, DROP)
    with pytest.raises(SealError, match="out of range"):
        sealer.seal(-1, b"x")
    with pytest.raises(SealError, match="out of range"):
        sealer.seal(2**31, b"x")


def test_associated_data_layout() -> None:
    aad = chunk_associated_data("d1", 258)
    assert aad == b"obshub/chunk/v1" + b"\x00\x00\x00\x02" + b"d1" + (258).to_bytes(8, "big")

"""Bearer tokens: issued once, stored as scrypt hashes, verified in constant time."""

from __future__ import annotations

import base64
import hmac
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from contracts.principals import PrincipalNameError
from hub.api import tokens as tokens_module
from hub.api.errors import TokenStoreError
from hub.api.tokens import TokenStore, split_token

FAST = 2**10  # scrypt cost for tests; production uses tokens.SCRYPT_N


@pytest.fixture
def store(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path / "access", scrypt_n=FAST)


def test_an_issued_token_verifies_as_its_consumer(store: TokenStore) -> None:
    issued = store.issue("observatoire-bordeaux")
    assert store.verify(issued.token) == "observatoire-bordeaux"
    assert store.consumers() == ["observatoire-bordeaux"]


def test_a_token_carries_at_least_256_random_bits(store: TokenStore) -> None:
    issued = store.issue("agora-le-bouscat")
    parts = split_token(issued.token)
    assert parts is not None
    secret = parts[1]
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) >= 32
    assert issued.token != store.issue("agora-le-bouscat").token


@pytest.mark.parametrize("bad", ["", "nope", "0123456789abcdef.wrong", "x" * 300, "a.b"])
def test_wrong_tokens_are_refused(store: TokenStore, bad: str) -> None:
    store.issue("observatoire-bordeaux")
    assert store.verify(bad) is None


def test_a_token_with_a_changed_secret_is_refused(store: TokenStore) -> None:
    issued = store.issue("observatoire-bordeaux")
    token_id, secret = issued.token.split(".", 1)
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert store.verify(f"{token_id}.{flipped}") is None


def test_revoked_tokens_are_refused_even_once_cached(store: TokenStore) -> None:
    issued = store.issue("observatoire-bordeaux")
    assert store.verify(issued.token) == "observatoire-bordeaux"  # now cached
    assert store.revoke("observatoire-bordeaux") is True
    assert store.verify(issued.token) is None
    assert store.revoke("observatoire-bordeaux") is False


def test_revocation_by_another_process_is_seen(tmp_path: Path) -> None:
    api_side = TokenStore(tmp_path, scrypt_n=FAST)
    cli_side = TokenStore(tmp_path, scrypt_n=FAST)
    issued = cli_side.issue("agora-le-bouscat")
    assert api_side.verify(issued.token) == "agora-le-bouscat"
    cli_side.revoke("agora-le-bouscat")
    assert api_side.verify(issued.token) is None


def test_a_new_token_replaces_the_old(store: TokenStore) -> None:
    old = store.issue("agora-le-bouscat")
    assert store.verify(old.token) == "agora-le-bouscat"
    new = store.issue("agora-le-bouscat")
    assert store.verify(old.token) is None
    assert store.verify(new.token) == "agora-le-bouscat"


def test_the_file_is_private_and_holds_no_token(store: TokenStore) -> None:
    issued = store.issue("observatoire-bordeaux")
    mode = stat.S_IMODE(os.stat(store.path).st_mode)
    assert mode == 0o600
    text = store.path.read_text()
    secret = issued.token.split(".", 1)[1]
    assert issued.token not in text and secret not in text
    entry = json.loads(text)["tokens"]["observatoire-bordeaux"]
    assert entry["scrypt"]["n"] == FAST
    assert len(base64.b64decode(entry["salt"])) == 16
    assert issued.token not in repr(issued)


def test_each_token_gets_its_own_salt(store: TokenStore) -> None:
    store.issue("observatoire-bordeaux")
    store.issue("agora-le-bouscat")
    entries = json.loads(store.path.read_text())["tokens"]
    assert entries["observatoire-bordeaux"]["salt"] != entries["agora-le-bouscat"]["salt"]


def test_hashes_are_compared_in_constant_time(
    store: TokenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    issued = store.issue("observatoire-bordeaux")
    token_id = issued.token.split(".", 1)[0]
    assert store.verify(f"{token_id}.not-the-secret") is None
    assert store.verify(issued.token) == "observatoire-bordeaux"
    assert len(calls) == 2


def test_successful_verifications_are_cached_without_the_token(
    store: TokenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = store.issue("observatoire-bordeaux")
    assert store.verify(issued.token) == "observatoire-bordeaux"
    hashed: list[str] = []
    real = tokens_module.hash_secret

    def counting(*args: Any) -> bytes:
        hashed.append("x")
        return real(*args)

    monkeypatch.setattr(tokens_module, "hash_secret", counting)
    for _ in range(3):
        assert store.verify(issued.token) == "observatoire-bordeaux"
    assert hashed == []
    assert all(issued.token.encode() != key for key in store._verified)


@pytest.mark.parametrize("name", ["Observatoire", "../etc", "", "a b", "x" * 64])
def test_names_that_cannot_be_principals_are_refused(store: TokenStore, name: str) -> None:
    with pytest.raises(PrincipalNameError):
        store.issue(name)
    with pytest.raises(PrincipalNameError):
        store.revoke(name)


def test_a_malformed_file_is_a_token_store_error(store: TokenStore) -> None:
    store.issue("observatoire-bordeaux")
    store.path.write_text("{not json")
    with pytest.raises(TokenStoreError, match="malformed"):
        store.verify("0123456789abcdef.secret")

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.documents import replace_signatures
from contracts.errors import KeyFileError, SigningError
from contracts.keys import (
    keygen,
    load_pseudonym_secret,
    load_sealing_private_key,
    load_sealing_public_key,
    load_signing_key,
    load_trust_store,
    load_verify_key,
    party_of_key_file,
    write_pseudonym_secret,
)
from contracts.loading import load_convention
from contracts.signing import (
    decode_signature,
    sign_as,
    sign_convention,
    sign_file,
    signature_verifies,
)
from contracts.status import signature_problems
from tests.unit.contracts.support import (
    CONVENTIONS_DIR,
    KEYS_DIR,
    PARTNERS,
    build,
    demo_data,
    trust,
)


def test_sign_then_verify() -> None:
    key = Ed25519PrivateKey.generate()
    convention = build({**demo_data(), "signatures": {}})
    signature = sign_convention(convention, key)
    assert decode_signature(signature) is not None and len(signature) == 88
    assert signature_verifies(convention, signature, key.public_key())
    other = Ed25519PrivateKey.generate().public_key()
    assert not signature_verifies(convention, signature, other)


@pytest.mark.parametrize("garbage", ["", "not base64!", "AAAA", "A" * 88])
def test_malformed_signatures_never_verify(garbage: str) -> None:
    convention = build(demo_data())
    assert not signature_verifies(convention, garbage, trust()["caf33"])


def test_every_demo_convention_is_signed_by_its_partner_and_the_hub_operator() -> None:
    for partner in PARTNERS:
        convention = load_convention(CONVENTIONS_DIR / f"{partner}.yaml")
        assert convention.signers == (partner, "hub-operator")
        assert signature_problems(convention, trust()) == []


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    private, public = keygen(tmp_path, "caf33")
    assert (private.name, public.name) == ("caf33.key", "caf33.pub")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    key = load_signing_key(private)
    assert load_verify_key(public).public_bytes_raw() == key.public_key().public_bytes_raw()


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    keygen(tmp_path, "caf33")
    with pytest.raises(KeyFileError, match="exists already"):
        keygen(tmp_path, "caf33")
    keygen(tmp_path, "caf33", overwrite=True)


def test_sign_file_adds_signatures_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "caf33.yaml"
    text = (CONVENTIONS_DIR / "caf33.yaml").read_text()
    path.write_text(replace_signatures(text, {}))
    keygen(tmp_path, "caf33")
    keygen(tmp_path, "hub-operator")
    for party in ("caf33", "hub-operator"):
        sign_file(path, load_signing_key(tmp_path / f"{party}.key"), party)
    signed_text = path.read_text()
    assert "# 4 stands for" in signed_text  # comments survive
    assert signed_text.split("signatures:")[0] == text.split("signatures:")[0]
    problems = signature_problems(load_convention(path), load_trust_store(tmp_path))
    assert problems == []


def test_sign_file_refuses_a_signer_who_is_not_a_party(tmp_path: Path) -> None:
    path = tmp_path / "caf33.yaml"
    path.write_text((CONVENTIONS_DIR / "caf33.yaml").read_text())
    with pytest.raises(SigningError, match="cd33 is not a party"):
        sign_file(path, Ed25519PrivateKey.generate(), "cd33")


def test_replace_signatures_handles_missing_and_flow_blocks() -> None:
    assert replace_signatures("id: x\n", {"a": "S"}) == 'id: x\nsignatures:\n  a: "S"\n'
    assert replace_signatures("id: x", {}) == "id: x\nsignatures: {}\n"
    text = "id: x\nsignatures: {a: OLD}\n\n# tail\nz: 1\n"
    assert replace_signatures(text, {"b": "N", "a": "M"}) == (
        'id: x\nsignatures:\n  a: "M"\n  b: "N"\n\n# tail\nz: 1\n'
    )


def test_sign_as_replaces_a_signature() -> None:
    convention = sign_as(build(demo_data()), "caf33", Ed25519PrivateKey.generate())
    assert signature_problems(convention, trust())[0].code == "wrong_key"


def test_trust_store_holds_party_keys_only() -> None:
    store = load_trust_store(KEYS_DIR)
    assert set(store) == {*PARTNERS, "hub-operator"}  # hub.x25519.pub is not a signing key


def test_trust_store_rejects_a_key_of_the_wrong_kind(tmp_path: Path) -> None:
    (tmp_path / "caf33.pub").write_text((KEYS_DIR / "hub.x25519.pub").read_text())
    with pytest.raises(KeyFileError, match=r"caf33\.pub: not an Ed25519 key"):
        load_trust_store(tmp_path)


def test_missing_key_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no such key directory"):
        load_trust_store(tmp_path / "nowhere")


def test_demo_key_files_are_marked_demo_only() -> None:
    for path in KEYS_DIR.iterdir():
        if path.suffix in (".key", ".pub", ".x25519"):
            assert path.read_text().startswith("# DEMO ONLY"), path
    assert "DEMO" in (KEYS_DIR / "README.md").read_text()


def test_demo_pseudonym_secrets_and_sealing_keys_load() -> None:
    secrets = {load_pseudonym_secret(KEYS_DIR / f"{p}.pseudonym.key") for p in PARTNERS}
    assert len(secrets) == len(PARTNERS) and all(len(s) == 32 for s in secrets)
    private = load_sealing_private_key(KEYS_DIR / "hub.x25519")
    public = load_sealing_public_key(KEYS_DIR / "hub.x25519.pub")
    assert private.public_key().public_bytes_raw() == public.public_bytes_raw()


def test_pseudonym_secret_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.pseudonym.key"
    write_pseudonym_secret(path, bytes(range(32)), header="test")
    assert load_pseudonym_secret(path) == bytes(range(32))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("abcd\n")
    with pytest.raises(KeyFileError, match="64 hexadecimal digits"):
        load_pseudonym_secret(path)


def test_party_is_read_from_the_key_file_name() -> None:
    assert party_of_key_file(Path("keys/ccas-bordeaux.key")) == "ccas-bordeaux"
    with pytest.raises(KeyFileError):
        party_of_key_file(Path("Bad Name.key"))

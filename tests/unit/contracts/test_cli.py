import shutil
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from contracts.cli import app
from contracts.documents import replace_signatures
from tests.unit.contracts.support import CONVENTIONS_DIR, KEYS_DIR, PARTNERS

runner = CliRunner()
DEMO_FILES = sorted(str(p) for p in CONVENTIONS_DIR.glob("*.yaml"))


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_check_passes_on_the_demo_conventions() -> None:
    result = runner.invoke(app, ["check", *DEMO_FILES, "--at", "2026-06-01T12:00:00+02:00"])
    assert result.exit_code == 0, result.output
    out = lines(result.stdout)
    assert len(out) == len(PARTNERS)
    assert all(": OK (" in line for line in out)


def test_check_without_paths_checks_the_whole_demo() -> None:
    result = runner.invoke(app, ["check", "--at", "2026-06-01"])
    assert result.exit_code == 0, result.output
    assert lines(result.stdout)[-1].endswith("indicators.yaml: OK (9 indicators)")


def test_check_after_expiry_fails_with_one_line_per_problem() -> None:
    result = runner.invoke(app, ["check", DEMO_FILES[0], "--at", "2028-01-01"])
    assert result.exit_code == 1
    [line] = lines(result.stdout)
    assert line.startswith(f"{DEMO_FILES[0]}:") and ": validity.valid_until: expired" in line


def test_verify_a_tampered_copy_fails_with_one_line(tmp_path: Path) -> None:
    copy = tmp_path / "caf33.yaml"
    copy.write_text((CONVENTIONS_DIR / "caf33.yaml").read_text().replace("k: 11", "k: 3"))
    result = runner.invoke(app, ["verify", str(copy), "--keys", str(KEYS_DIR)])
    assert result.exit_code == 1
    [line] = lines(result.output)
    assert line.startswith(f"{copy}:") and ": signatures: " in line and "does not verify" in line


def test_verify_the_demo_conventions() -> None:
    for file in DEMO_FILES:
        result = runner.invoke(app, ["verify", file])
        assert result.exit_code == 0, result.output
        assert "signatures OK" in result.stdout


@pytest.mark.parametrize(
    ("at", "standing"),
    [
        ("2026-06-01", "in force until 2027-12-31 (Europe/Paris)"),
        ("2028-01-01", "not in force: expired (it was in force until 2027-12-31, Europe/Paris)"),
        ("2024-12-31", "not in force: not yet valid (in force from 2025-01-01, Europe/Paris)"),
    ],
)
def test_verify_says_whether_the_convention_is_in_force(at: str, standing: str) -> None:
    file = str(CONVENTIONS_DIR / "caf33.yaml")
    result = runner.invoke(app, ["verify", file, "--keys", str(KEYS_DIR), "--at", at])
    assert result.exit_code == 0, result.output  # the signatures are good: not in force is no error
    assert result.stdout == (
        f"{file}: signatures OK: caf33-obshub v1 signed by caf33 and hub-operator; {standing}\n"
    )


def test_verify_now_says_in_force() -> None:
    result = runner.invoke(app, ["verify", DEMO_FILES[0], "--keys", str(KEYS_DIR)])
    assert result.exit_code == 0, result.output
    assert "; in force until " in result.stdout or "; not in force: " in result.stdout


def test_verify_says_a_revoked_convention_is_not_in_force(tmp_path: Path) -> None:
    shutil.copytree(CONVENTIONS_DIR, tmp_path / "conventions")
    conventions = tmp_path / "conventions"
    revoked = runner.invoke(
        app,
        [
            "revoke",
            "cd33-obshub",
            "--conventions",
            str(conventions),
            "--reason",
            "fin de la convention",
            "--key",
            str(KEYS_DIR / "hub-operator.key"),
        ],
    )
    assert revoked.exit_code == 0, revoked.output
    file = conventions / "cd33.yaml"
    result = runner.invoke(app, ["verify", str(file), "--keys", str(KEYS_DIR)])
    assert result.exit_code == 0, result.output
    [line] = lines(result.stdout)
    assert line.startswith(f"{file}: signatures OK: cd33-obshub v1 signed by cd33 and hub-operator")
    assert "; not in force: revoked by hub-operator on " in line
    assert line.endswith(": fin de la convention")


def test_keygen_sign_verify_round_trip(tmp_path: Path) -> None:
    for party in ("caf33", "hub-operator"):
        result = runner.invoke(app, ["keygen", party, "--dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
    convention = tmp_path / "caf33.yaml"
    convention.write_text(replace_signatures((CONVENTIONS_DIR / "caf33.yaml").read_text(), {}))

    unsigned = runner.invoke(app, ["verify", str(convention), "--keys", str(tmp_path)])
    assert unsigned.exit_code == 1 and len(lines(unsigned.stdout)) == 2  # both parties

    result = runner.invoke(app, ["sign", str(convention), "--key", str(tmp_path / "caf33.key")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        [
            "sign",
            str(convention),
            "--key",
            str(tmp_path / "hub-operator.key"),
            "--party",
            "hub-operator",
        ],
    )
    assert result.exit_code == 0, result.output

    verified = runner.invoke(app, ["verify", str(convention), "--keys", str(tmp_path)])
    assert verified.exit_code == 0, verified.output
    # the demo trust store does not hold these fresh keys
    demo = runner.invoke(app, ["verify", str(convention), "--keys", str(KEYS_DIR)])
    assert demo.exit_code == 1


def test_keys_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(KEYS_DIR / "caf33.pub", tmp_path / "caf33.pub")
    monkeypatch.setenv("OBSHUB_KEYS_DIR", str(tmp_path))
    result = runner.invoke(app, ["verify", DEMO_FILES[0]])
    assert result.exit_code == 1
    [line] = lines(result.stdout)
    assert "no trusted public key for hub-operator" in line


def test_keygen_does_not_overwrite(tmp_path: Path) -> None:
    runner.invoke(app, ["keygen", "cd33", "--dir", str(tmp_path)])
    result = runner.invoke(app, ["keygen", "cd33", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "exists already" in result.output


def test_signing_as_a_stranger_is_one_error_line(tmp_path: Path) -> None:
    runner.invoke(app, ["keygen", "cd33", "--dir", str(tmp_path)])
    convention = tmp_path / "caf33.yaml"
    shutil.copy(CONVENTIONS_DIR / "caf33.yaml", convention)
    result = runner.invoke(app, ["sign", str(convention), "--key", str(tmp_path / "cd33.key")])
    assert result.exit_code == 1
    [line] = lines(result.output)
    assert line.startswith("obshub: error: ") and "cd33 is not a party" in line


def test_an_instant_without_timezone_is_a_usage_error() -> None:
    result = runner.invoke(app, ["check", DEMO_FILES[0], "--at", "2026-06-01T12:00:00"])
    assert result.exit_code == 2
    assert "no timezone" in result.output


def test_every_command_has_help() -> None:
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert set(commands) == {"keygen", "sign", "verify", "check", "revoke", "secret"}
    assert all(command.help for command in commands.values())
    for name in commands:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_check_refuses_two_conventions_covering_one_commune(tmp_path: Path) -> None:
    shutil.copytree(CONVENTIONS_DIR, tmp_path / "conventions")
    path = tmp_path / "conventions" / "ccas-le-bouscat.yaml"
    path.write_text(
        path.read_text().replace('territory: ["33069"]', 'territory: ["33063", "33069"]')
    )
    result = runner.invoke(
        app, ["check", str(tmp_path / "conventions"), "--at", "2026-06-01", "--keys", str(KEYS_DIR)]
    )
    assert result.exit_code == 1
    overlap = [line for line in lines(result.stdout) if "both cover" in line]
    assert len(overlap) == 1
    assert "ccas-le-bouscat-obshub v1 and ccas-bordeaux-obshub v1" in overlap[0]
    assert "ccas.aides in 33063" in overlap[0]


def test_revoke_writes_a_revocation_signed_by_the_hub_operator(tmp_path: Path) -> None:
    from contracts.keys import load_trust_store
    from contracts.revocation import load_revocations

    shutil.copytree(CONVENTIONS_DIR, tmp_path / "conventions")
    conventions = tmp_path / "conventions"
    args = ["revoke", "cd33-obshub", "--conventions", str(conventions)]
    result = runner.invoke(
        app,
        [*args, "--reason", "fin de la convention", "--key", str(KEYS_DIR / "hub-operator.key")],
    )
    assert result.exit_code == 0, result.output
    [revocation], problems = load_revocations(conventions)
    assert not problems and revocation.convention == "cd33-obshub"
    assert revocation.verifies(load_trust_store(KEYS_DIR)["hub-operator"])
    refused = runner.invoke(app, [*args, "--reason", "moi", "--key", str(KEYS_DIR / "cd33.key")])
    assert refused.exit_code == 1
    assert "cd33 is not its hub operator" in refused.stderr
    unknown = runner.invoke(
        app,
        [
            "revoke",
            "nobody",
            "--conventions",
            str(conventions),
            "--reason",
            "x",
            "--key",
            str(KEYS_DIR / "hub-operator.key"),
        ],
    )
    assert unknown.exit_code == 1 and "no such convention" in unknown.stderr


def test_secret_makes_a_pseudonymisation_secret(tmp_path: Path) -> None:
    from contracts.keys import load_pseudonym_secret

    result = runner.invoke(app, ["secret", "ccas-pessac", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    secret = load_pseudonym_secret(tmp_path / "ccas-pessac.pseudonym.key")
    assert len(secret) == 32
    again = runner.invoke(app, ["secret", "ccas-pessac", "--dir", str(tmp_path)])
    assert again.exit_code == 1  # never overwritten by accident: pseudonyms would change

"""What each install needs, and where an installed obshub finds its files.

A partner installs the connector alone (`pip install 'obshub[connector]'`):
the connector's verbs must run without the hub's libraries, so they are
run here in a fresh interpreter where importing those libraries fails. The
hub's worker and access API must not import the development stack runner.
An installed package (no `deploy/` beside it) reads its defaults from the
current directory and names the setting to set when one is missing.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
from pathlib import Path

import pytest

from contracts.paths import (
    DEMO_DIR,
    PROJECT_ROOT,
    MissingPathError,
    find_project_root,
    require_dir,
    shown,
)
from hub.settings import HubSettings

ROOT = Path(__file__).resolve().parents[2]
HUB_ONLY = ("faust", "fastapi", "scipy", "uvicorn", "aiokafka", "prometheus_client", "starlette")
PACKAGES = ("schemas", "contracts", "connectors", "hub")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def distribution(requirement: str) -> str:
    """The normalised distribution name of a requirement line."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def requirements(extra: str | None = None) -> set[str]:
    lines = PROJECT["dependencies"] if extra is None else PROJECT["optional-dependencies"][extra]
    return {distribution(line) for line in lines}


def imported_distributions(package: str) -> dict[str, set[str]]:
    """Third-party distribution -> the files of `package` that import it (lazily too)."""
    providers = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = {node.module.split(".")[0]}
            else:
                continue
            for top in tops - set(sys.stdlib_module_names) - set(PACKAGES):
                for name in providers.get(top, [top]):
                    found.setdefault(distribution(name), set()).add(path.name)
    return found


def test_the_base_install_is_the_connector_and_nothing_of_the_hub() -> None:
    base = requirements()
    assert requirements("connector") <= base
    for package in ("connectors", "contracts", "schemas"):
        imported = imported_distributions(package)
        missing = {d: files for d, files in imported.items() if d not in base}
        assert missing == {}, f"{package} imports what the connector install lacks"
    hub_only = {"faust-streaming", "fastapi", "scipy", "uvicorn", "aiokafka"}
    assert hub_only <= requirements("hub")
    assert base & hub_only == set()
    # a partner whose extract is in Lambert-93 reprojects it (connectors.validation)
    assert "pyproj" in imported_distributions("connectors") and "pyproj" in base


def test_the_hub_extra_covers_what_the_hub_imports() -> None:
    have = requirements() | requirements("hub")
    missing = {d: files for d, files in imported_distributions("hub").items() if d not in have}
    assert missing == {}


def run_python(
    code: str,
    cwd: Path = ROOT,
    flags: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> dict[str, object]:
    """Run `code` in a fresh interpreter; it prints one JSON object last."""
    done = subprocess.run(
        [sys.executable, *flags, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


# Imported first in the child: any import of a hub-only library fails there
# (as it would in a connector-only install) and is recorded.
BLOCK_HUB_LIBRARIES = f"""
import importlib.abc, json, sys
BLOCKED = {HUB_ONLY!r}
TRIED = []

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            TRIED.append(name)
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Absent())

def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
"""


def test_the_connector_verbs_run_without_the_hub_libraries(tmp_path: Path) -> None:
    code = (
        BLOCK_HUB_LIBRARIES
        + f"""
import datetime as dt, functools
from typer.testing import CliRunner

import connectors.cli
from connectors.publish import publish_extract
from hub.cli import _register_plugins, app

_register_plugins()  # what `obshub` does: every verb group from its entry point
connectors.cli.publish_extract = functools.partial(
    publish_extract, now=dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
)
runner = CliRunner()
out = {str(tmp_path / "caf.csv")!r}
convention = {str(ROOT / "deploy/demo/conventions/caf33.yaml")!r}
runs = {{
    "help": runner.invoke(app, ["connector", "--help"]),
    "generate": runner.invoke(app, [
        "connector", "generate", "--dataset", "caf.allocataires", "--rows", "50",
        "--period", "2026-10", "--out", out,
    ]),
    "publish": runner.invoke(app, [
        "connector", "publish", "--convention", convention, "--source", out,
        "--period", "2026-10", "--dry-run",
    ]),
    "own-help": runner.invoke(connectors.cli.app, ["--help"]),
}}
print(json.dumps({{
    "exit": {{name: run.exit_code for name, run in runs.items()}},
    "publish": runs["publish"].output,
    "tried": TRIED,
    "loaded": loaded(),
}}))
"""
    )
    result = run_python(code)
    assert result["exit"] == {"help": 0, "generate": 0, "publish": 0, "own-help": 0}, result
    assert "dry run: nothing sent" in str(result["publish"])
    assert result["tried"] == [] and result["loaded"] == []


def test_the_connector_console_script_imports_nothing_of_the_hub() -> None:
    code = (
        BLOCK_HUB_LIBRARIES
        + """
import connectors.__main__
hub = sorted(m for m in sys.modules if m == "hub" or m.startswith("hub."))
print(json.dumps({"tried": TRIED, "loaded": loaded(), "hub": hub}))
"""
    )
    assert run_python(code) == {"tried": [], "loaded": [], "hub": []}


def test_worker_and_api_do_not_import_the_stack_runner() -> None:
    code = """
import json, sys
import hub.worker, hub.api.server
print(json.dumps(sorted(m for m in sys.modules if m.startswith("hub.stack"))))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []


# -- where the defaults point ------------------------------------------------------


def test_a_checkout_finds_its_own_deploy_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OBSHUB_KEYS_DIR", raising=False)
    assert PROJECT_ROOT == ROOT and DEMO_DIR == ROOT / "deploy" / "demo"
    assert HubSettings().keys_dir == ROOT / "deploy" / "demo" / "keys"
    assert find_project_root(ROOT) == ROOT


def test_installed_packages_read_the_current_directory(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "deploy").mkdir(parents=True)  # a `deploy` of another package: not a checkout
    assert find_project_root(site) == Path()
    assert shown(Path() / "deploy" / "demo" / "keys") == "./deploy/demo/keys"
    assert shown(tmp_path) == str(tmp_path)


def test_a_missing_directory_names_its_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CONVENTIONS_DIR", "CATALOG_FILE", "KEYS_DIR", "DEPLOY_DIR"):
        monkeypatch.delenv(f"OBSHUB_{name}", raising=False)
    with pytest.raises(MissingPathError) as missing:
        require_dir(tmp_path / "keys", "key directory", "OBSHUB_KEYS_DIR")
    assert str(missing.value) == f"no key directory {tmp_path}/keys (set OBSHUB_KEYS_DIR)"
    settings = HubSettings(territory_dir=tmp_path / "territory")
    with pytest.raises(MissingPathError, match=r"\(set OBSHUB_TERRITORY_DIR\)$"):
        settings.require()
    settings.require("conventions_dir", "catalog_file", "keys_dir", "deploy_dir")


def test_the_connector_names_its_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.settings import ConnectorSettings

    monkeypatch.setenv("OBSHUB_KEYS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(MissingPathError, match=r"nowhere \(set OBSHUB_KEYS_DIR\)$"):
        ConnectorSettings()
    monkeypatch.setenv("OBSHUB_KEYS_DIR", str(tmp_path))
    settings = ConnectorSettings(state_dir=tmp_path / "state")
    with pytest.raises(MissingPathError, match=r"\(set OBSHUB_SIGNING_KEY_FILE or "):
        settings.load_signing_key("caf33")
    with pytest.raises(MissingPathError, match=r"\(set OBSHUB_PSEUDONYM_SECRET_FILE or "):
        settings.load_pseudonym_secret("caf33")
    with pytest.raises(MissingPathError, match=r"\(set OBSHUB_HUB_PUBLIC_KEY_FILE\)$"):
        settings.load_hub_public_key()
    with pytest.raises(MissingPathError, match=r"\(set OBSHUB_KAFKA_CONFIG or OBSHUB_STATE_DIR\)"):
        settings.kafka_credentials("caf33")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packages copied as pip lays them out: no `deploy/` beside them."""
    site = tmp_path_factory.mktemp("installed") / "site-packages"
    skip = shutil.ignore_patterns("__pycache__")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, site / package, ignore=skip)
    return site


def run_installed(installed: Path, code: str, cwd: Path) -> dict[str, object]:
    """`code` with only the copied packages and the venv's libraries on the path
    (`-S`: not the editable install; `-P`: not the working directory)."""
    libraries = sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]
    env = {"PYTHONPATH": ":".join([str(installed), *libraries]), "PATH": "/usr/bin:/bin"}
    return run_python(code, cwd=cwd, flags=("-S", "-P"), env=env)


SETTINGS_PROBE = """
import json
from pathlib import Path
import connectors.settings, contracts.paths
from hub.settings import HubSettings
hub = HubSettings()
try:
    connector = str(connectors.settings.ConnectorSettings().keys_dir.resolve())
except contracts.paths.MissingPathError as exc:
    connector = str(exc)
print(json.dumps({
    "root": str(contracts.paths.PROJECT_ROOT),
    "package": str(Path(contracts.paths.__file__).parent.parent),
    "keys": str(hub.keys_dir.resolve()),
    "conventions": str(hub.conventions_dir.resolve()),
    "connector": connector,
}))
"""


def test_an_installed_package_runs_from_its_directory(installed: Path) -> None:
    found = run_installed(installed, SETTINGS_PROBE, cwd=ROOT)
    assert found["package"] == str(installed) and found["root"] == "."
    assert found["keys"] == str(ROOT / "deploy/demo/keys")
    assert found["conventions"] == str(ROOT / "deploy/demo/conventions")
    assert found["connector"] == str(ROOT / "deploy/demo/keys")


def test_an_installed_package_elsewhere_names_the_setting(installed: Path, tmp_path: Path) -> None:
    found = run_installed(installed, SETTINGS_PROBE, cwd=tmp_path)
    assert found["connector"] == "no key directory ./deploy/demo/keys (set OBSHUB_KEYS_DIR)"
    assert found["keys"] == str(tmp_path.resolve() / "deploy/demo/keys")

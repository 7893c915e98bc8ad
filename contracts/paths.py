"""Where obshub looks for its deployment material (`deploy/`) when no setting says.

The one definition of the project root, for the hub, the connector and the
`obshub convention` verbs. Run from a checkout (an editable install, the
tests, `make demo`), the defaults are the checkout's `deploy/…`, whatever
the working directory. Installed from a wheel or `pip install .`, the
packages sit in site-packages with no `deploy/` beside them: the defaults
are then relative to the current directory (`./deploy/…`, as in the
image's /opt/obshub), and a partner or an operator points the settings
(`OBSHUB_KEYS_DIR`, `OBSHUB_CONVENTIONS_DIR`, …) at their own files.

A default that leads nowhere is reported by `require_dir` / `require_file`
with the setting that would fix it, not with a path inside site-packages.
"""

from __future__ import annotations

from pathlib import Path

from contracts.errors import ContractError

SOURCE_ROOT = Path(__file__).resolve().parent.parent
"""The directory holding the packages: a checkout, or site-packages once installed."""


def is_checkout(root: Path) -> bool:
    """Whether `root` is the project's source tree (its `deploy/` beside the packages)."""
    return (root / "deploy").is_dir() and (root / "pyproject.toml").is_file()


def find_project_root(source: Path = SOURCE_ROOT) -> Path:
    """`source` when it is a checkout, else the current directory (as the relative
    `Path()`: read where the command runs, and shown as `./deploy/…`)."""
    return source if is_checkout(source) else Path()


PROJECT_ROOT = find_project_root()
"""Where `deploy/` is looked for: the checkout, or the current directory."""
DEPLOY_DIR = PROJECT_ROOT / "deploy"
DEMO_DIR = DEPLOY_DIR / "demo"
"""The demo's conventions, indicator catalog, keys (public, demo only) and territory."""


def shown(path: Path) -> str:
    """`path` as a message names it: a relative one as `./…`, so it reads as the
    current directory's."""
    text = str(path)
    return text if path.is_absolute() or text.startswith(".") else f"./{text}"


class MissingPathError(ContractError):
    """A directory or file a setting names, or its default, does not exist."""

    reason = "missing_path"

    def __init__(self, what: str, path: Path, setting: str) -> None:
        self.what, self.path, self.setting = what, path, setting
        super().__init__(f"no {what} {shown(path)} (set {setting})")


def require_dir(path: Path, what: str, setting: str) -> Path:
    """`path` if it is a directory, else `MissingPathError` naming `setting`."""
    if not path.is_dir():
        raise MissingPathError(what, path, setting)
    return path


def require_file(path: Path, what: str, setting: str) -> Path:
    """`path` if it is a file, else `MissingPathError` naming `setting`."""
    if not path.is_file():
        raise MissingPathError(what, path, setting)
    return path

"""What versions the pre-commit config pins, as pip requirements (``ruff==0.17.5``).

The pre-commit config is the one source of linter versions: ``nox -s lint`` installs exactly
these, and ``invoke lint-versions`` prints them. Remote hook repositories pin through ``rev``
(``astral-sh/ruff-pre-commit`` at ``v0.17.5`` → ``ruff==0.17.5``); local hooks pin through
``additional_dependencies``.
"""

from __future__ import annotations

import re
from pathlib import Path

from contribkit.core.errors import UsageError

CONFIG_NAME = ".pre-commit-config.yaml"


def package_for_repo(url: str) -> str:
    """``https://github.com/astral-sh/ruff-pre-commit`` → ``ruff``; ``mirrors-mypy`` → ``mypy``."""
    name = url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
    name = name.removeprefix("mirrors-").removeprefix("pre-commit-")
    return re.sub(r"[-_]pre[-_]commit(-hooks)?$", "", name) or name


def pinned_requirements(root: Path) -> list[str]:
    """Every pinned tool of every hook repository, in config order, without repeats."""
    import yaml

    path = root / CONFIG_NAME
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise UsageError(f"no {CONFIG_NAME} in {root}: nothing pins the linters.") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}.") from exc
    found: dict[str, None] = {}
    for repo in data.get("repos", []):
        url = str(repo.get("repo", ""))
        if url not in ("local", "meta") and repo.get("rev"):
            found[f"{package_for_repo(url)}=={str(repo['rev']).removeprefix('v')}"] = None
        for hook in repo.get("hooks", []):
            for dependency in hook.get("additional_dependencies", []):
                if "==" in str(dependency):
                    found[str(dependency).replace(" ", "")] = None
    return list(found)


def pinned_version(root: Path, package: str) -> str | None:
    for requirement in pinned_requirements(root):
        name, _, version = requirement.partition("==")
        if name.lower() == package.lower():
            return version
    return None

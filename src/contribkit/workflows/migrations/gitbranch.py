"""What git says of the branch being worked on: the target it will join, and the files there.

``rebase`` asks git which revision files are this branch's: those the target branch does not
have. The target is ``--onto``, else the current branch's upstream (unless that is the same
branch on a remote, which holds this branch's own revisions once pushed), else ``main``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from contribkit.core.errors import UsageError


class NotInGit(UsageError):
    """git cannot say: no git, or not a repository; the caller adds what to do instead."""


def _git(root: Path, *args: str) -> str | None:
    """git's output, or ``None`` when it fails."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        raise NotInGit("git cannot be run here") from None
    return result.stdout if result.returncode == 0 else None


def _exists(root: Path, rev: str) -> bool:
    return _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") is not None


def target(root: Path, onto: str | None) -> str:
    """The branch or commit this branch's revisions go on top of."""
    if _git(root, "rev-parse", "--is-inside-work-tree") is None:
        raise NotInGit(f"{root} is not in a git repository")
    if onto:
        if not _exists(root, onto):
            raise UsageError(f"--onto {onto}: no such branch or commit in this repository.")
        return onto
    branch = (_git(root, "rev-parse", "--abbrev-ref", "HEAD") or "").strip()
    upstream = (
        _git(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}") or ""
    ).strip()
    # The upstream is often this branch on a remote (after `git push -u`): its name there is
    # what the branch's configuration merges from.
    merges = (_git(root, "config", "--get", f"branch.{branch}.merge") or "").strip()
    if upstream and merges != f"refs/heads/{branch}":
        return upstream
    for name in ("main", "origin/main", "master", "origin/master"):
        if branch not in (name, name.split("/", 1)[-1]) and _exists(root, name):
            return name
    raise NotInGit(
        f"no target branch: {branch or 'HEAD'} has no upstream other than itself, and no 'main' "
        "other than itself"
    )


def files_at(root: Path, rev: str, folder: Path) -> set[Path]:
    """The files under ``folder`` (absolute, resolved) in commit ``rev``."""
    top = _git(root, "rev-parse", "--show-toplevel")
    assert top is not None  # target() checked that this is a repository
    base = Path(top.strip()).resolve()
    try:
        inside = folder.resolve().relative_to(base)
    except ValueError:
        raise NotInGit(f"{folder} is outside the git repository at {base}") from None
    listed = _git(base, "ls-tree", "-r", "-z", "--name-only", rev, "--", inside.as_posix())
    return {(base / name).resolve() for name in (listed or "").split("\0") if name}

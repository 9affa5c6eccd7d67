"""Linter versions have one source, and CI runs nothing but nox sessions."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contribkit.workflows.lintversions import package_for_repo, pinned_requirements, pinned_version

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
# What a workflow `run:` step may do: install tools, list sessions, run one session.
ALLOWED_RUN = [
    re.compile(r"^python -m pip install( [\w.<>=\"-]+)+$"),
    re.compile(
        r'^echo "sessions=\$\(nox -l --json -t ci \| jq -c \'\[\.\[\] \| \{session, python\}\]\'\)" >> "\$GITHUB_OUTPUT"$'
    ),
    re.compile(r'^nox -s "\$SESSION"$'),
]


@pytest.mark.parametrize(
    ("url", "package"),
    [
        ("https://github.com/astral-sh/ruff-pre-commit", "ruff"),
        ("https://github.com/pre-commit/mirrors-mypy", "mypy"),
        ("https://github.com/rhysd/actionlint", "actionlint"),
        ("https://github.com/PyCQA/isort.git", "isort"),
    ],
)
def test_package_for_a_hook_repository(url: str, package: str) -> None:
    assert package_for_repo(url) == package


def test_every_hook_of_every_repo_is_listed(tmp_path: Path) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        "  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.9.1\n"
        "    hooks: [{id: ruff}, {id: ruff-format}]\n"
        "  - repo: https://github.com/pre-commit/mirrors-mypy\n    rev: v1.14.0\n"
        "    hooks: [{id: mypy, additional_dependencies: ['types-PyYAML==6.0.12']}]\n"
        "  - repo: local\n    hooks: [{id: x, additional_dependencies: ['ruff==0.9.1', 'attrs']}]\n"
    )
    assert pinned_requirements(tmp_path) == ["ruff==0.9.1", "mypy==1.14.0", "types-PyYAML==6.0.12"]


def test_no_file_pins_a_different_ruff() -> None:
    ruff = pinned_version(ROOT, "ruff")
    assert ruff, ".pre-commit-config.yaml must pin ruff"
    found = {}
    for path in [
        ROOT / "pyproject.toml",
        ROOT / "noxfile.py",
        ROOT / "tasks.py",
        *WORKFLOWS,
        *ROOT.glob("requirements*.txt"),
        *ROOT.glob(".ci/*"),
    ]:
        for match in re.finditer(r"ruff\s*[=~]=\s*v?([\w.]+)", path.read_text()):
            found[f"{path.name}: {match.group(0)}"] = match.group(1)
    lock = (ROOT / "uv.lock").read_text()
    locked = re.search(r'\[\[package\]\]\nname = "ruff"\nversion = "([^"]+)"', lock)
    assert locked, "uv.lock has no ruff"
    found["uv.lock"] = locked.group(1)
    assert found and all(version == ruff for version in found.values()), (ruff, found)


def test_invoke_lint_versions_prints_every_pin() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "invoke"), "lint-versions"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == pinned_requirements(ROOT)
    assert f"ruff=={pinned_version(ROOT, 'ruff')}" in result.stdout.split()


def test_workflows_run_only_tool_setup_and_nox_sessions() -> None:
    assert WORKFLOWS
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        for job_name, job in workflow["jobs"].items():
            for step in job["steps"]:
                if "run" in step:
                    command = step["run"].strip()
                    assert any(p.match(command) for p in ALLOWED_RUN), (
                        f"{path.name}/{job_name}: {command}"
                    )
                if "uses" in step:
                    assert re.search(r"@[0-9a-f]{40}$", step["uses"]), (
                        f"not pinned by SHA: {step['uses']}"
                    )


def test_workflow_matrix_comes_from_nox_and_permissions_are_read_only() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    assert "concurrency" in workflow
    job = workflow["jobs"]["nox"]
    assert job["strategy"]["matrix"] == {
        "include": "${{ fromJSON(needs.sessions.outputs.sessions) }}"
    }
    [setup_python] = [
        s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")
    ]
    assert setup_python["with"]["python-version"].splitlines() == ["${{ matrix.python }}", "3.11"]


def test_actionlint_accepts_the_workflows() -> None:
    actionlint = Path(sys.executable).parent / "actionlint"
    result = subprocess.run([str(actionlint), *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nox_lists_ci_sessions_for_every_python_and_every_dialect() -> None:
    import json

    result = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json", "-t", "ci"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    sessions = json.loads(result.stdout)
    names = {s["session"] for s in sessions}
    # Each becomes one matrix job {session, python}: the job sets up exactly that Python.
    assert all(re.fullmatch(r"3\.\d+", s["python"]) for s in sessions), sessions
    tests = {name for name in names if name.startswith("tests(")}
    assert tests == {
        *(f"tests(python='{py}', dialect='sqlite')" for py in ("3.10", "3.12", "3.13")),
        "tests(python='3.10', dialect='postgresql')",  # the oldest and newest
        "tests(python='3.13', dialect='postgresql')",
        "tests(python='3.11', dialect='mysql')",  # the default Python only
    }
    assert {"lint", "docs", "migrations"} <= names


def readme_links(text: str) -> list[str]:
    """The relative links of a Markdown text (``[…](target)``), without their anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and t.split("#")[0]]


def test_the_readme_links_to_files_that_exist_and_stays_short() -> None:
    """The docs site checks its own links (nox -s docs); the README is outside it."""
    readme = (ROOT / "README.md").read_text()
    links = readme_links(readme)
    assert "docs/configuration.md" in links and "src/flowdesk/README.md" in links
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert not missing, missing
    assert readme_links("[a](docs/none.md#x) [b](https://example.org) [c](#here)") == [
        "docs/none.md"
    ]
    assert len(readme.encode()) <= 8 * 1024


#: The seams a newcomer calls through, typed so that mypy --strict accepts them: every command,
#: the migration workflow's entry points (migrate, check, rebase and amend), generate and verify
#: (``generate_revision``, ``TrialDatabase``), what they write (notes, names) and read (revision
#: files, git), and the output channel.
STRICTLY_TYPED = (
    "src/contribkit/commands",
    "src/contribkit/core/reporting.py",
    *(
        f"src/contribkit/workflows/migrations/{name}.py"
        for name in (
            "migrate",
            "check",
            "rebase",
            "amend",
            "gitbranch",
            "generate",
            "verify",
            "notes",
            "filenames",
            "revisionfile",
        )
    ),
)


def test_the_seams_pass_mypy_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "mypy"),
            *STRICTLY_TYPED,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""``invoke ui.build``: Node checks, npm ci + build, the swap into place, and the skip when
unchanged."""

from __future__ import annotations

import errno
import json
import os
import signal
import time
from pathlib import Path

import pytest
from devtools_support import NODE_MAJOR, contribkit
from process_support import raise_on_signals

from contribkit.core.config import ProjectConfig
from contribkit.core.errors import CheckFailed, UsageError
from contribkit.workflows import ui

REPO = Path(__file__).resolve().parents[2]


def served(config: ProjectConfig) -> str:
    assert config.static_dir is not None
    return (config.static_dir / "index.html").read_text()


def test_build_installs_the_output_with_its_source_hash(ui_project: ProjectConfig) -> None:
    result = ui.build(ui_project)
    assert result.built
    static = ui_project.static_dir
    assert static is not None and result.static_dir == static
    assert served(ui_project) == "<p>version one</p>"
    assert (static / "assets" / "app.js").is_file()
    assert ui.built_hash(static) == ui.source_hash(ui_project.root / "ui")
    # Nothing left behind next to the served folder.
    assert sorted(p.name for p in static.parent.iterdir()) == ["ui_build"]


def test_unchanged_sources_skip_the_build_without_node(
    ui_project: ProjectConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ui.build(ui_project)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))  # npm could not run now
    result = ui.build(ui_project)
    assert not result.built
    assert served(ui_project) == "<p>version one</p>"


def test_changed_sources_or_force_rebuild(ui_project: ProjectConfig) -> None:
    ui.build(ui_project)
    (ui_project.root / "ui" / "src" / "app.txt").write_text("version two")
    assert ui.build(ui_project).built
    assert served(ui_project) == "<p>version two</p>"
    assert ui.build(ui_project, force=True).built


def test_outputs_and_dependencies_do_not_change_the_hash(ui_project: ProjectConfig) -> None:
    ui_dir = ui_project.root / "ui"
    before = ui.source_hash(ui_dir)
    for folder in ("node_modules/x", "dist", "test-results"):
        (ui_dir / folder).mkdir(parents=True, exist_ok=True)
        (ui_dir / folder / "file.txt").write_text("not a source")
    assert ui.source_hash(ui_dir) == before
    (ui_dir / "package-lock.json").write_text("{}")
    assert ui.source_hash(ui_dir) != before


def test_a_failed_build_keeps_the_previous_one_served(ui_project: ProjectConfig) -> None:
    ui.build(ui_project)
    assert ui_project.static_dir is not None
    previous_hash = ui.built_hash(ui_project.static_dir)
    (ui_project.root / "ui" / "src" / "app.txt").write_text("BROKEN")
    with pytest.raises(CheckFailed, match=r"^npm run build failed \(exit 1\)") as failure:
        ui.build(ui_project)
    assert "build.js: cannot compile src/app.txt" in (failure.value.details or "")
    assert served(ui_project) == "<p>version one</p>"
    assert ui.built_hash(ui_project.static_dir) == previous_hash
    assert sorted(p.name for p in ui_project.static_dir.parent.iterdir()) == ["ui_build"]


def failing_renames(monkeypatch: pytest.MonkeyPatch, *kinds: str) -> None:
    """Make renames onto the served folder fail: of the new build ("new"), of the old one put
    back ("old")."""
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if Path(target).name == "ui_build" and any(f"-{kind}-" in self.name for kind in kinds):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)


def change_the_sources(config: ProjectConfig) -> None:
    (config.root / "ui" / "src" / "app.txt").write_text("version two")


def test_a_failed_swap_puts_the_previous_build_back(
    ui_project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    ui.build(ui_project)
    change_the_sources(ui_project)
    failing_renames(monkeypatch, "new")
    with pytest.raises(OSError, match="Invalid cross-device link"):
        ui.build(ui_project)
    assert served(ui_project) == "<p>version one</p>"
    assert ui_project.static_dir is not None
    assert sorted(p.name for p in ui_project.static_dir.parent.iterdir()) == ["ui_build"]


def test_a_previous_build_that_cannot_be_put_back_is_kept_and_named(
    ui_project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    ui.build(ui_project)
    change_the_sources(ui_project)
    failing_renames(monkeypatch, "new", "old")
    with pytest.raises(CheckFailed, match="nor the previous one back: it is in ") as failure:
        ui.build(ui_project)
    kept = Path(failure.value.message.split("it is in ")[1].split(";")[0])
    assert (kept / "index.html").read_text() == "<p>version one</p>"


def test_a_ctrl_c_during_the_swap_leaves_the_new_build_served(
    ui_project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held while the folders move; once the new build is served, the run is done."""
    ui.build(ui_project)
    change_the_sources(ui_project)
    raise_on_signals()
    real_rename = Path.rename

    def ctrl_c_then_rename(self: Path, target: Path) -> Path:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # delivered here, were it not held
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", ctrl_c_then_rename)
    assert ui.build(ui_project).built
    monkeypatch.undo()
    assert served(ui_project) == "<p>version two</p>"
    assert ui_project.static_dir is not None
    assert sorted(p.name for p in ui_project.static_dir.parent.iterdir()) == ["ui_build"]


def test_a_failed_npm_ci_shows_the_tail_of_its_error(ui_project: ProjectConfig) -> None:
    package_json = ui_project.root / "ui" / "package.json"
    package = json.loads(package_json.read_text())
    package["scripts"]["postinstall"] = (
        "node -e \"console.error('postinstall: cannot fetch the fonts'); process.exit(3)\""
    )
    package_json.write_text(json.dumps(package))
    with pytest.raises(CheckFailed, match=r"^npm ci --no-audit --no-fund failed") as failure:
        ui.build(ui_project)
    details = failure.value.details or ""
    assert "postinstall: cannot fetch the fonts" in details
    assert len(details.splitlines()) <= ui.TAIL_LINES
    assert not (ui_project.root / "server").exists()


def test_node_missing_is_one_sentence(
    ui_project: ProjectConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(UsageError, match=rf"^node is not on PATH: install Node {NODE_MAJOR} "):
        ui.build(ui_project)


def test_node_major_must_match_nvmrc(ui_project: ProjectConfig) -> None:
    (ui_project.root / ".nvmrc").write_text("v12.22.1\n")
    with pytest.raises(UsageError, match=r"is on PATH but \.nvmrc asks for 12: run 'nvm use'"):
        ui.build(ui_project)
    (ui_project.root / ".nvmrc").write_text("lts/iron\n")
    with pytest.raises(UsageError, match=r"says 'lts/iron': write a version number"):
        ui.build(ui_project)


def test_a_missing_lockfile_is_bad_input(ui_project: ProjectConfig) -> None:
    ui.build(ui_project)  # node_modules exists: the dev server would not need npm ci
    (ui_project.root / "ui" / "package-lock.json").unlink()
    for action in (
        lambda: ui.build(ui_project, force=True),
        lambda: ui.dev_command(ui_project, "http://127.0.0.1:4200"),
    ):
        with pytest.raises(UsageError, match=r"has no package-lock\.json: run 'npm install' there"):
            action()


def test_cli_reports_the_build_and_exits_2_on_bad_input(ui_project: ProjectConfig) -> None:
    built = contribkit("ui", "build", cwd=ui_project.root)
    assert built.returncode == 0, built.stderr
    assert "built the UI into server/ui_build in " in built.stdout
    again = contribkit("ui", "build", cwd=ui_project.root)
    assert "UI unchanged since the last build" in again.stdout
    (ui_project.root / ".nvmrc").write_text("12\n")
    mismatch = contribkit("ui", "build", "--force", cwd=ui_project.root)
    assert mismatch.returncode == 2
    assert mismatch.stderr.count("\n") == 1
    assert mismatch.stderr.startswith("error: Node v")


def test_a_project_without_a_ui_is_told_what_to_set(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.contribkit]\n")
    result = contribkit("ui", "build", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: no UI configured: set [tool.contribkit] ui = 'ui' and "
        "static = 'path/served/by/app'.\n"
    )


def test_the_ui_lockfile_pins_every_package_from_the_npm_registry() -> None:
    lock = json.loads((REPO / "ui" / "package-lock.json").read_text())
    packages = {name: entry for name, entry in lock["packages"].items() if name}
    assert packages
    assert [name for name, entry in packages.items() if "integrity" not in entry] == []
    resolved = [entry["resolved"] for entry in packages.values() if "resolved" in entry]
    assert [url for url in resolved if not url.startswith("https://registry.npmjs.org/")] == []

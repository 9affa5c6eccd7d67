"""Small stand-alone projects for the UI, dev server and manifest workflows (helpers).

Each is a real folder with its own ``pyproject.toml``; the UI is a real npm project whose
scripts are tiny node programs, so ``npm ci`` and ``npm run build`` run for real, offline.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from contribkit.core.config import ProjectConfig, load_config

NODE_MAJOR = (
    subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    .stdout.strip()[1:]
    .split(".")[0]
)

BUILD_JS = """\
const fs = require("fs");
const source = fs.readFileSync("src/app.txt", "utf8");
if (source.includes("BROKEN")) {
  console.error("build.js: cannot compile src/app.txt");
  process.exit(1);
}
fs.rmSync("dist", { recursive: true, force: true });
fs.mkdirSync("dist/assets", { recursive: true });
fs.writeFileSync("dist/index.html", `<p>${source}</p>`);
fs.writeFileSync("dist/assets/app.js", "console.log('app');");
"""

DEV_JS = """\
console.log(`dev server ready, /api goes to ${process.env.API_PROXY_TARGET}`);
setInterval(() => {}, 1000);
"""


def toml_value(value: object) -> str:
    return json.dumps(value)  # strings, ints and lists of strings are the same in TOML


def write_project(root: Path, table: dict[str, object]) -> ProjectConfig:
    root.mkdir(parents=True, exist_ok=True)
    lines = [f"{key} = {toml_value(value)}" for key, value in table.items()]
    (root / "pyproject.toml").write_text("[tool.contribkit]\n" + "\n".join(lines) + "\n")
    return load_config(root)


def write_ui(ui_dir: Path, scripts: dict[str, str] | None = None) -> None:
    (ui_dir / "src").mkdir(parents=True, exist_ok=True)
    package = {
        "name": "fake-ui",
        "version": "1.0.0",
        "private": True,
        "scripts": scripts or {"build": "node build.js", "dev": "node dev.js"},
    }
    lock = {
        "name": "fake-ui",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {"": {"name": "fake-ui", "version": "1.0.0"}},
    }
    (ui_dir / "package.json").write_text(json.dumps(package, indent=2))
    (ui_dir / "package-lock.json").write_text(json.dumps(lock, indent=2))
    (ui_dir / "build.js").write_text(BUILD_JS)
    (ui_dir / "dev.js").write_text(DEV_JS)
    (ui_dir / "src" / "app.txt").write_text("version one")


def contribkit(*args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """``python -m contribkit ARGS`` in ``cwd``, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "contribkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,  # type: ignore[arg-type]
    )

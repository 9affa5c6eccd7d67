"""The project's own command that makes a new database (``start = { dialect = { revision =
…, command = … } }``): Optuna's ``optuna create-study --storage URL``, say, which creates the
tables with ``create_all`` and stamps them. contribkit runs it on each empty throw-away
database, as the project's users run it on theirs, instead of a frozen copy of the models.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from contribkit.core.errors import UsageError


@dataclass(frozen=True)
class SetUpCommand:
    #: The command as configured: ``{url}`` is the database's URL, ``python`` contribkit's.
    text: str
    #: Where it runs (the project's root).
    root: Path
    #: Named in messages: ``start.<dialect>.command``.
    key: str

    def run(self, url: str) -> None:
        """Make the empty database at ``url``; a failure is one line naming the command."""
        words = shlex.split(self.text.replace("{url}", shlex.quote(url)))
        argv = [sys.executable, *words[1:]] if words[0] == "python" else words
        try:
            result = subprocess.run(argv, cwd=self.root, capture_output=True, text=True)
        except OSError as exc:
            raise UsageError(f"{self.key} = {self.text!r} could not start: {exc}.") from exc
        if result.returncode != 0:
            said = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()
            raise UsageError(f"{self.key} = {self.text!r} exited {result.returncode}: {said[-1]}")

from contribkit.cli import entry

entry()

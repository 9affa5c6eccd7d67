from contribkit.frontends.cli import entry

entry()

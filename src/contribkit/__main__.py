import sys

from contribkit.cli import main

sys.exit(main())

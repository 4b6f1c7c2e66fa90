"""python -m rl train | enjoy | eval | zoo (see rl/cli.py)."""

import sys

from rl.cli import main

if __name__ == "__main__":
    sys.exit(main())

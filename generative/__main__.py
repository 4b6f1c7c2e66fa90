"""python -m generative train | sample | eval | classifier | list (see generative/cli.py)."""

import sys

from generative.cli import main

if __name__ == "__main__":
    sys.exit(main())

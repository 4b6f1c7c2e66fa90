"""python -m agents_zoo build | list (see agents_zoo.cli)."""
from agents_zoo.cli import main

raise SystemExit(main())

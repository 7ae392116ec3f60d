"""`python -m arcos` is the `arcos` command."""

import sys

from arcos.cli import main

sys.exit(main())

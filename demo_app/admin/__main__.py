"""`python -m demo_app.admin --help`: the owner's desk from a terminal (see `_cli`)."""

import sys

from demo_app.admin._cli import main

sys.exit(main())

"""``python -m core``: the studio's command line (see ``python -m core --help``)."""

import sys

from core.cli import main

if __name__ == "__main__":
    sys.exit(main())

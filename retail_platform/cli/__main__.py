"""``python -m retail_platform.cli``: the same as the ``retail-platform`` command."""

import sys

from retail_platform.cli import main

sys.exit(main())

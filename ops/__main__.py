import sys

from is21.ops.cli import main

sys.exit(main())

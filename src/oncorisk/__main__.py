import sys

from oncorisk.cli import main

sys.exit(main())

import sys

from plastinka_api.cli import main

sys.exit(main())

import sys

from dsexport.cli import main

sys.exit(main())

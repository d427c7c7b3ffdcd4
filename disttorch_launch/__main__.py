"""`python -m disttorch_launch ...` is `disttorchrun ...`."""

import sys

from . import main

sys.exit(main())

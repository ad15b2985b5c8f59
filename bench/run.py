"""Run the peer comparison: ``python bench/run.py [--quick] [--big]`` (= ``chainrule bench``)."""

import sys

from chainrule.bench import main

if __name__ == "__main__":
    sys.exit(main())

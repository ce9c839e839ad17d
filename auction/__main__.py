"""``python -m auction`` is the ``auction`` command."""

from auction.cli import main

if __name__ == "__main__":  # a worker process (auction/workers.py) imports this module too
    raise SystemExit(main())

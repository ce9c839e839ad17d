"""``python -m auction`` is the ``auction`` command."""

from auction.cli import main

raise SystemExit(main())

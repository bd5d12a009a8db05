"""``python -m policy_topics`` and the ``policy-topics`` script: the command line.

Nothing slow is imported before :func:`main` runs, so that Ctrl-C while the
command line loads (spaCy takes a second or two) stops it quietly too.
"""

from __future__ import annotations

import contextlib
import signal
import sys


def main() -> None:
    """Entry point of the ``policy-topics`` script."""
    try:
        from policy_topics.cli import main as run

        run()
    except KeyboardInterrupt:
        # Before the command line handles signals itself: while it loads.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.write("policy-topics: interrupted by SIGINT\n")
            sys.stderr.flush()
        raise SystemExit(128 + signal.SIGINT) from None


if __name__ == "__main__":
    main()

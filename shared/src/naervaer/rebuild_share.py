"""``python -m naervaer.rebuild_share FD``: one process's share of a rebuild shared out by
``naervaer.rebuilding`` (its ``ShareOrder`` as JSON on standard input). Reports on file
descriptor FD, a JSON object a line: ``{"position": …}`` after each batch, ``{"applied": …}``
once the share is replayed. An error ends it with a traceback on stderr and exit code 1. On
Linux it is killed when the process that started it ends, however that ends (a SIGKILL, the
OOM killer): a share left running would go on writing rows a new rebuild resets."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import sys

from naervaer.rebuilding import ShareOrder, replay_share

_PR_SET_PDEATHSIG = 1


def main() -> None:
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    # read after the death signal is set: a starter already gone leaves no whole order
    order = ShareOrder.model_validate_json(sys.stdin.buffer.read())
    with os.fdopen(int(sys.argv[1]), "w", buffering=1) as reports:

        def report(position: int) -> None:
            reports.write(json.dumps({"position": position}) + "\n")

        applied = asyncio.run(replay_share(order, report))
        reports.write(json.dumps({"applied": applied}) + "\n")


if __name__ == "__main__":
    main()

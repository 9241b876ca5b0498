"""``python -m naervaer.rebuild_share FD``: one process's share of a rebuild shared out by
``naervaer.rebuilding`` (its ``ShareOrder`` as JSON on standard input). Reports on file
descriptor FD, a JSON object a line: ``{"position": …}`` after each batch, ``{"applied": …}``
once the share is replayed. An error ends it with a traceback on stderr and exit code 1."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from naervaer.rebuilding import ShareOrder, replay_share


def main() -> None:
    order = ShareOrder.model_validate_json(sys.stdin.buffer.read())
    with os.fdopen(int(sys.argv[1]), "w", buffering=1) as reports:

        def report(position: int) -> None:
            reports.write(json.dumps({"position": position}) + "\n")

        applied = asyncio.run(replay_share(order, report))
        reports.write(json.dumps({"applied": applied}) + "\n")


if __name__ == "__main__":
    main()

"""A development switch for fault-injection tests: die between a transaction and its ack.

``NAERVAER_DEV_CRASH_BEFORE_ACK=<consumer>`` turns the consumer's ``crash_before_ack`` hook on
for that one consumer: the first message it *handles* (a type it wants) commits its transaction
with the inbox row and the effects, and then the process SIGKILLs itself before the offset
commit, as a power cut at the worst moment would. The restarted service (without the variable)
gets the message again, and the inbox has to turn it into a duplicate. The settings refuse the
variable in production.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

import structlog

from naervaer.envelope import Envelope
from naervaer.messaging.source import IncomingMessage
from naervaer.messaging.subscription import Subscription

log = structlog.get_logger(__name__)

CrashHook = Callable[[IncomingMessage], bool]


def crash_before_ack(
    subscription: Subscription,
    chosen: str | None,
    *,
    die: Callable[[], None] | None = None,
) -> CrashHook | None:
    """The hook for ``subscription`` when it is the ``chosen`` consumer, else None.

    ``die`` ends the process (default: SIGKILL to ourselves); tests pass their own.
    """
    if chosen is None or chosen != subscription.name:
        return None
    end = die or _kill_self

    def crash(message: IncomingMessage) -> bool:
        try:
            envelope = Envelope.from_json_bytes(message.value)
        except ValueError:
            return False  # dead-lettered at once: no handler transaction to be caught after
        if not subscription.wants(envelope.type):
            return False  # skipped: only the checkpoint moved
        log.warning(
            "dev crash before ack",
            consumer=subscription.name,
            event_id=str(envelope.id),
            where=f"{message.topic}[{message.partition}]@{message.offset}",
        )
        end()
        return True

    return crash


def _kill_self() -> None:
    # Flush first: the log line above is how a test learns which event was caught.
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)

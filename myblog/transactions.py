"""DynamoDB write transactions, and what each way DynamoDB cancels one means.

DynamoDB runs a TransactWriteItems call entirely or not at all. When it
cancels one it answers `TransactionCanceledException` with one reason per
item, in the order of the items ("None" for the items that were fine);
PynamoDB hands them over as `TransactWriteError.cancellation_reasons`, a
`CancellationReason` or None per item. `write` runs a transaction and turns
every reason into a decision:

- `ConditionalCheckFailed`: an item's condition was false, which for a
  versioned item means someone else wrote it first. Final: `ConditionFailed`.
- `TransactionConflict`: another transaction or write had one of the items
  at the same moment. The other write takes milliseconds, so the whole
  transaction is sent again a few times; if the conflict persists, the other
  writer is taken to have won: `ConditionFailed`. A retry is safe because
  the conditions go with it: if the other write changed the item, the retry
  fails its condition instead of overwriting it.
- `ThrottlingError`, `ProvisionedThroughputExceeded`: the table or the
  account is over its rate. Sent again with exponential backoff and jitter,
  then `Throttled`. The whole call throttled (`ThrottlingException`,
  `ProvisionedThroughputExceededException`, `RequestLimitExceeded`) was
  already retried by botocore: `Throttled` at once.
- `ValidationError` (an item too large, a bad value),
  `ItemCollectionSizeLimitExceeded` (a local-index collection over 10 GB):
  retrying cannot help. `Rejected`.

A reason this module does not know, or a failure that is not a
cancellation (access denied, a network error), is re-raised unchanged as
the unexpected error it is. Nothing is ever half-written: each failure
above means the transaction wrote nothing.
"""

import logging
import random
import time

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

log = logging.getLogger(__name__)

CONDITION_FAILED = "ConditionalCheckFailed"
CONFLICT = "TransactionConflict"
THROTTLED = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})
REJECTED = frozenset({"ValidationError", "ItemCollectionSizeLimitExceeded"})
# Error codes of the whole call (not a cancellation) that mean the same.
CALL_CONDITION_FAILED = "ConditionalCheckFailedException"
CALL_THROTTLED = frozenset({"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"})

# Attempts in all (the first one included) and the pauses between them, in
# seconds: a conflict clears within milliseconds, throttling within a second
# or two. The worst case stays far below API Gateway's 29 s.
CONFLICT_ATTEMPTS = 3
CONFLICT_PAUSE = 0.025
THROTTLE_ATTEMPTS = 4
THROTTLE_BASE_PAUSE = 0.1
THROTTLE_MAX_PAUSE = 1.0


class TransactionFailed(Exception):
    """The transaction wrote nothing; `reasons` are DynamoDB's codes for the items that caused it."""

    def __init__(self, message, reasons=(), messages=()):
        super().__init__(message)
        self.reasons = list(reasons)
        self.messages = list(messages)


class ConditionFailed(TransactionFailed):
    """A condition was false, or another writer kept the items: someone else wrote first."""


class Throttled(TransactionFailed):
    """DynamoDB stayed over its rate through every retry."""


class Rejected(TransactionFailed):
    """DynamoDB refused the items themselves; sending them again cannot succeed."""


def cancellation_codes(error):
    """The codes of the items that cancelled the transaction (the "None" entries left out)."""
    return [reason.code for reason in getattr(error, "cancellation_reasons", None) or [] if reason is not None]


def _messages(error):
    return [
        reason.message
        for reason in getattr(error, "cancellation_reasons", None) or []
        if reason is not None and reason.message
    ]


def classify(error):
    """What a `TransactWriteError` means: a `TransactionFailed` subclass, CONFLICT, or None (unexpected).

    A failed condition wins over every other reason (sending the items again
    cannot make it true), then refused items; CONFLICT and `Throttled` may
    pass when sent again (see `write`).
    """
    codes = set(cancellation_codes(error))
    call_code = error.cause_response_code
    if CONDITION_FAILED in codes or call_code == CALL_CONDITION_FAILED:
        return ConditionFailed
    if codes & REJECTED:
        return Rejected
    unknown = codes - {CONFLICT} - THROTTLED
    if unknown:
        return None
    if CONFLICT in codes:
        return CONFLICT
    if codes & THROTTLED:
        return Throttled
    if call_code in CALL_THROTTLED:
        return Throttled
    return None


def _pause(seconds):
    time.sleep(seconds)


def _conflict_pause(attempt):
    """A short, jittered pause before retry `attempt` (1, 2, ...) after a conflict."""
    return random.uniform(CONFLICT_PAUSE, 2 * CONFLICT_PAUSE) * attempt


def _throttle_pause(attempt):
    """Full-jitter exponential backoff before retry `attempt` (1, 2, ...) after throttling."""
    return random.uniform(0, min(THROTTLE_MAX_PAUSE, THROTTLE_BASE_PAUSE * 2 ** (attempt - 1)))


# What may succeed when sent again: (attempts in all, pause, what it is when they run out).
RETRIES = {
    CONFLICT: (CONFLICT_ATTEMPTS, _conflict_pause, ConditionFailed),
    Throttled: (THROTTLE_ATTEMPTS, _throttle_pause, Throttled),
}


def write(build, *, connection):
    """Run the transaction `build(transaction)` describes, retrying what may succeed when sent again.

    `build` is called once per attempt with a fresh `TransactWrite` and adds
    its operations to it (it must not have other effects). Raises
    `ConditionFailed`, `Throttled` or `Rejected` (see the module docstring),
    or the original `TransactWriteError` when the failure is unexpected.
    """
    attempts = dict.fromkeys(RETRIES, 0)
    while True:
        try:
            with TransactWrite(connection=connection) as transaction:
                build(transaction)
            return
        except TransactWriteError as error:
            outcome = classify(error)
            if outcome is None:
                raise
            codes = cancellation_codes(error)
            # A call throttled as a whole (no reasons) was already retried by botocore.
            if outcome in RETRIES and codes:
                attempts[outcome] += 1
                limit, pause, final = RETRIES[outcome]
                if attempts[outcome] < limit:
                    log.info("Transaction cancelled (%s); sending it again", ", ".join(codes))
                    _pause(pause(attempts[outcome]))
                    continue
                outcome = final
            reasons = codes or [error.cause_response_code]
            if outcome is not ConditionFailed or CONFLICT in codes:
                log.warning("Transaction cancelled (%s): %s", ", ".join(map(str, reasons)), _messages(error))
            message = error.cause_response_message or "The transaction was cancelled"
            raise outcome(message, reasons, _messages(error)) from error

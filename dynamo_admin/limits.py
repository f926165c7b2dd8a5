"""DynamoDB's hard limits, checked before a request is made.

DynamoDB answers a request that breaks one of these with a
`ValidationException`, which would surface as a 500. Input that cannot fit
(a key from a URL, a search term, a selection posted by a form) is refused
or treated as "not found" before any call instead, the same way on every
engine: moto does not enforce all of these limits, DynamoDB Local and AWS
do.
"""

# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
MAX_ITEM_BYTES = 400 * 1024  # attribute names and values, UTF-8
MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024
MAX_TRANSACTION_ITEMS = 100  # TransactWriteItems / TransactGetItems
MAX_BATCH_GET_KEYS = 100  # BatchGetItem
MAX_NUMBER_DIGITS = 38  # precision of a Number


def utf8_length(text):
    """Bytes `text` takes in DynamoDB (UTF-8); None if it cannot be encoded (lone surrogates)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def _fits(value, limit):
    if not isinstance(value, str) or not value:
        return False
    size = utf8_length(value)
    return size is not None and size <= limit


def fits_hash_key(value):
    """Whether `value` can be a string hash key: non-empty, valid UTF-8, at most 2048 bytes."""
    return _fits(value, MAX_HASH_KEY_BYTES)


def fits_range_key(value):
    """Whether `value` can be a string range key: non-empty, valid UTF-8, at most 1024 bytes."""
    return _fits(value, MAX_RANGE_KEY_BYTES)


def fits_number(value):
    """Whether the integer `value` can be stored as a DynamoDB Number (38 significant digits)."""
    return isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) <= MAX_NUMBER_DIGITS

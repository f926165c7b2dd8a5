"""Per-client rate limits that hold across Lambda instances: counters in DynamoDB.

A fixed window per client: one atomic UpdateItem (`ADD count 1`) per
request, whose answer says whether the client is over its limit. Every
Lambda instance sees the same counters, which an in-memory limiter cannot.

Who is "the client": behind CloudFront every request reaches API Gateway
from a CloudFront address, so the connection's address (REMOTE_ADDR, API
Gateway's `sourceIp`) names an edge server, not a reader. CloudFront
reports the reader's address in `CloudFront-Viewer-Address` ("ip:port",
added when the origin request policy includes it); unlike the first hop of
X-Forwarded-For, which the reader writes, that value is CloudFront's own.
The header is only trustworthy on a request that came through CloudFront,
so it is read only from requests carrying the origin secret
(`myblog.origin`); on any other request, and without the header, the
connection's address is used. IPv6 clients are counted per /64, the block
one subscriber line gets. Addresses are stored only as keyed digests.

If DynamoDB cannot count (throttling, an outage), the request is allowed
and the failure logged: sign-ups are rare and the write that follows
would fail the same way.
"""

import ipaddress
import logging
import time
from datetime import UTC, datetime
from typing import NamedTuple

from django.conf import settings
from django.utils.crypto import salted_hmac
from pynamodb.exceptions import PynamoDBException

from myblog import origin
from subscribers.models import RateLimit

log = logging.getLogger(__name__)

SUBSCRIBE = "subscribe"


class RateLimited(Exception):
    def __init__(self, retry_after):
        super().__init__(f"Too many requests; retry after {retry_after} s")
        self.retry_after = retry_after


class Usage(NamedTuple):
    count: int
    limit: int
    retry_after: int

    @property
    def allowed(self):
        return self.count <= self.limit


def _header_meta_name(header):
    return "HTTP_" + header.upper().replace("-", "_")


def _parse_address(value, with_port=False):
    """An IP address from "ip", or with `with_port` from "ip:port" / "[v6]:port" / "v6:port".

    CloudFront writes IPv6 viewer addresses unbracketed with the port last.
    """
    value = (value or "").strip()
    if with_port:
        value = value[1:].split("]", 1)[0] if value.startswith("[") else value.rsplit(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_address(request):
    """The reader's IP address (see the module docstring), as text; IPv6 as its /64."""
    address = None
    header = settings.MYBLOG_CLIENT_IP_HEADER
    if header and origin.is_verified(request):
        address = _parse_address(request.META.get(_header_meta_name(header)), with_port=True)
    if address is None:
        address = _parse_address(request.META.get("REMOTE_ADDR"))
    if address is None:
        return "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _digest(client):
    return salted_hmac("myblog.ratelimit", client, algorithm="sha256").hexdigest()[:32]


def hit(scope, client, limit, window, now=None):
    """Count one request of `client` in `scope`; returns its `Usage` in the current window."""
    now = int(now if now is not None else time.time())
    start = now - now % window
    retry_after = start + window - now
    counter = RateLimit(f"{scope}#{_digest(client)}#{start}")
    try:
        counter.update(
            actions=[
                RateLimit.count.add(1),
                RateLimit.expires_at.set(datetime.fromtimestamp(start + 2 * window, tz=UTC)),
            ],
        )
    except PynamoDBException:
        log.warning("Rate limit %s could not be counted; allowing the request", scope, exc_info=True)
        return Usage(0, limit, retry_after)
    return Usage(int(counter.count), limit, retry_after)


def check_subscribe(request, now=None):
    """Count a sign-up attempt by this request's client; RateLimited when over the limit."""
    usage = hit(
        SUBSCRIBE,
        client_address(request),
        settings.MYBLOG_SUBSCRIBE_RATE_LIMIT,
        settings.MYBLOG_SUBSCRIBE_RATE_WINDOW,
        now=now,
    )
    if not usage.allowed:
        raise RateLimited(usage.retry_after)
    return usage

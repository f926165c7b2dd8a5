"""Per-client rate limits: counted in DynamoDB (shared by every Lambda), keyed by the trustworthy address."""

import logging

import pytest
from django.test import RequestFactory
from pynamodb.exceptions import UpdateError

from myblog import aws as myblog_aws
from subscribers import ratelimit
from subscribers.models import RateLimit

WINDOW = 600
SECRET = "origin-secret-for-the-tests-0123456789abcdef"


@pytest.fixture(autouse=True)
def origin_secret(settings):
    """The stage's origin secret: requests through CloudFront carry it."""
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = SECRET


def _request(remote="10.0.0.1", origin=SECRET, **headers):
    """A request as CloudFront forwards it (with the origin secret), or with `origin` as given (None: none)."""
    if origin is not None:
        headers["X-Origin-Verify"] = origin
    return RequestFactory().post("/api/subscribers", REMOTE_ADDR=remote, headers=headers)


def test_counts_per_client_and_window(aws):
    now = 1_800_000_000 - 1_800_000_000 % WINDOW + 10
    assert [ratelimit.hit("s", "203.0.113.1", 2, WINDOW, now=now).allowed for _ in range(3)] == [True, True, False]
    assert ratelimit.hit("s", "203.0.113.2", 2, WINDOW, now=now).allowed
    blocked = ratelimit.hit("s", "203.0.113.1", 2, WINDOW, now=now + 100)
    assert not blocked.allowed and blocked.retry_after == WINDOW - 110
    # The next window starts afresh.
    assert ratelimit.hit("s", "203.0.113.1", 2, WINDOW, now=now + WINDOW).allowed


def test_counters_are_shared_across_instances(aws):
    now = 1_800_000_000
    ratelimit.hit("s", "203.0.113.1", 1, WINDOW, now=now)
    myblog_aws.reset_clients()  # another Lambda instance: new connections, same table
    assert not ratelimit.hit("s", "203.0.113.1", 1, WINDOW, now=now).allowed


def test_counters_expire_through_dynamodb_ttl_and_hold_no_address(aws):
    now = 1_800_000_000
    ratelimit.hit("subscribe", "203.0.113.1", 5, WINDOW, now=now)
    [counter] = list(RateLimit.scan())
    assert "203.0.113.1" not in counter.key and counter.key.startswith("subscribe#")
    assert counter.count == 1
    assert counter.expires_at.timestamp() == now - now % WINDOW + 2 * WINDOW
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=RateLimit.Meta.table_name)
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_the_client_is_cloudfronts_viewer_address_not_x_forwarded_for(settings):
    settings.MYBLOG_CLIENT_IP_HEADER = "CloudFront-Viewer-Address"
    spoofed = _request(
        "130.176.0.5", **{"CloudFront-Viewer-Address": "203.0.113.9:50432", "X-Forwarded-For": "1.2.3.4"}
    )
    assert ratelimit.client_address(spoofed) == "203.0.113.9"
    other_spoof = _request(
        "130.176.0.5", **{"CloudFront-Viewer-Address": "203.0.113.9:443", "X-Forwarded-For": "5.6.7.8"}
    )
    assert ratelimit.client_address(other_spoof) == "203.0.113.9"


def test_ipv6_clients_are_counted_per_64(settings):
    settings.MYBLOG_CLIENT_IP_HEADER = "CloudFront-Viewer-Address"
    one = _request(**{"CloudFront-Viewer-Address": "2001:db8:abcd:12:1::1:443"})
    two = _request(**{"CloudFront-Viewer-Address": "2001:db8:abcd:12:ffff::9:51000"})
    assert ratelimit.client_address(one) == ratelimit.client_address(two) == "2001:db8:abcd:12::/64"
    mapped = _request(**{"CloudFront-Viewer-Address": "::ffff:203.0.113.5:443"})
    assert ratelimit.client_address(mapped) == "203.0.113.5"


def test_without_the_header_the_connection_address_is_used(settings):
    settings.MYBLOG_CLIENT_IP_HEADER = "CloudFront-Viewer-Address"
    assert ratelimit.client_address(_request("192.0.2.44")) == "192.0.2.44"
    assert ratelimit.client_address(_request("192.0.2.44", **{"CloudFront-Viewer-Address": "garbage"})) == "192.0.2.44"
    settings.MYBLOG_CLIENT_IP_HEADER = ""
    assert ratelimit.client_address(_request("192.0.2.44", **{"CloudFront-Viewer-Address": "203.0.113.9:1"})) == (
        "192.0.2.44"
    )
    assert ratelimit.client_address(_request("")) == "unknown"


@pytest.mark.parametrize("origin", [None, "", "guess", SECRET[:-1], SECRET + "x", SECRET.upper()])
def test_the_viewer_address_of_a_request_without_the_origin_secret_is_ignored(origin):
    forged = _request("198.51.100.20", origin=origin, **{"CloudFront-Viewer-Address": "203.0.113.9:50432"})
    assert ratelimit.client_address(forged) == "198.51.100.20"


def test_without_a_configured_secret_no_viewer_address_is_believed(settings):
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = ""
    request = _request("198.51.100.20", **{"CloudFront-Viewer-Address": "203.0.113.9:50432"})
    assert ratelimit.client_address(request) == "198.51.100.20"


def test_during_a_rotation_both_secrets_are_believed(settings):
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = "the-new-origin-secret-" + "n" * 30
    settings.MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS = SECRET
    for origin in (SECRET, settings.MYBLOG_ORIGIN_VERIFY_SECRET):
        request = _request("130.176.0.5", origin=origin, **{"CloudFront-Viewer-Address": "203.0.113.9:443"})
        assert ratelimit.client_address(request) == "203.0.113.9"
    settings.MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS = ""
    request = _request("130.176.0.5", origin=SECRET, **{"CloudFront-Viewer-Address": "203.0.113.9:443"})
    assert ratelimit.client_address(request) == "130.176.0.5"


def test_fifteen_forged_addresses_are_one_client(aws, settings):
    # The outside tester's attack: the API called directly, a new forged viewer address each time.
    settings.MYBLOG_SUBSCRIBE_RATE_LIMIT = 10
    allowed = 0
    for index in range(15):
        request = _request("198.51.100.20", origin=None, **{"CloudFront-Viewer-Address": f"203.0.113.{index}:443"})
        try:
            ratelimit.check_subscribe(request, now=1_800_000_000)
        except ratelimit.RateLimited:
            continue
        allowed += 1
    assert allowed == 10


def test_check_subscribe_raises_over_the_limit(aws, settings):
    settings.MYBLOG_SUBSCRIBE_RATE_LIMIT = 1
    request = _request(**{"CloudFront-Viewer-Address": "203.0.113.77:1000"})
    ratelimit.check_subscribe(request, now=1_800_000_000)
    with pytest.raises(ratelimit.RateLimited) as raised:
        ratelimit.check_subscribe(request, now=1_800_000_001)
    assert raised.value.retry_after > 0


def test_if_dynamodb_cannot_count_the_request_is_allowed_and_logged(aws, monkeypatch, caplog):
    def failing_update(self, *args, **kwargs):
        raise UpdateError("throttled")

    monkeypatch.setattr(RateLimit, "update", failing_update)
    with caplog.at_level(logging.WARNING, logger="subscribers.ratelimit"):
        usage = ratelimit.hit("s", "203.0.113.1", 1, WINDOW, now=1_800_000_000)
    assert usage.allowed
    assert "could not be counted" in caplog.text

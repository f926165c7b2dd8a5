import pytest

from subscribers import services, tokens
from subscribers.models import BOUNCED, CONFIRMED, PENDING, UNSUBSCRIBED, Subscriber


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b", "two@@example.com", "x" * 250 + "@example.com", None, 42])
def test_normalise_email_rejects_junk(bad):
    with pytest.raises(services.InvalidEmail):
        services.normalise_email(bad)


def test_subscribe_is_idempotent_and_normalises(dynamodb):
    assert services.subscribe("  Reader@Example.COM ") is True
    assert services.subscribe("reader@example.com") is False
    assert Subscriber.get("reader@example.com").status == PENDING


def test_confirm_then_unsubscribe(dynamodb):
    services.subscribe("r@example.com")
    assert services.confirm("r@example.com") is True
    assert services.confirm("r@example.com") is True
    assert Subscriber.get("r@example.com").status == CONFIRMED
    assert services.unsubscribe("r@example.com") is True
    assert Subscriber.get("r@example.com").status == UNSUBSCRIBED
    assert services.confirm("r@example.com") is False
    assert services.unsubscribe("unknown@example.com") is False


def test_suppressed_address_is_not_resubscribed(dynamodb):
    services.subscribe("b@example.com")
    services.suppress("b@example.com", BOUNCED, "Permanent: General")
    assert services.subscribe("b@example.com") is False
    assert Subscriber.get("b@example.com").status == BOUNCED


def test_tokens_are_purpose_bound():
    token = tokens.confirm_token("a@example.com")
    assert tokens.email_from_confirm_token(token) == "a@example.com"
    with pytest.raises(tokens.InvalidToken):
        tokens.email_from_unsubscribe_token(token)
    with pytest.raises(tokens.InvalidToken):
        tokens.email_from_confirm_token(token + "x")
    assert tokens.unsubscribe_url("a@example.com").startswith("https://blog.example.com/subscribe/unsubscribe/")

import pytest

from subscribers import services, tokens
from subscribers.models import BOUNCED, CONFIRMED, PENDING, UNSUBSCRIBED, Subscriber


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b", "two@@example.com", "x" * 250 + "@example.com", None, 42])
def test_normalise_email_rejects_junk(bad):
    with pytest.raises(services.InvalidEmail):
        services.normalise_email(bad)


# Control and other non-printable characters anywhere, non-ASCII local parts
# (SES sends 7-bit ASCII addresses only), malformed dot-atoms, made-up A-labels.
UNSENDABLE = [
    "a\u0000b@example.com",
    "a\u0001b@example.com",
    "a\u001fb@example.com",
    "a\u007fb@example.com",
    "a\u0085b@example.com",
    "a\u200bb@example.com",
    "reader@exam\u0000ple.com",
    "reader@example.com\u0000",
    "josé@example.com",
    "\u212aelvin@example.com",  # KELVIN SIGN, which lower-cases to an ASCII "k"
    "a b@example.com",
    'a"b@example.com',
    "a\\b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a..b@example.com",
    "a@example..com",
    "a@example.com.",
    "a@ex_ample.com",
    "a@\u2603.com",  # IDNA 2008 refuses symbols
    "a@xn--zzzz-.com",
    "a@localhost",
]


@pytest.mark.parametrize("bad", UNSENDABLE)
def test_normalise_email_rejects_what_ses_cannot_send_to_with_one_message(bad):
    with pytest.raises(services.InvalidEmail) as raised:
        services.normalise_email(bad)
    assert str(raised.value) == services.INVALID_EMAIL_MESSAGE


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Reader@Example.COM ", "reader@example.com"),
        ("o'brien+news@example.co.uk", "o'brien+news@example.co.uk"),
        ("first.last@sub.example.org", "first.last@sub.example.org"),
        ("leser@bücher.example", "leser@xn--bcher-kva.example"),
        ("leser@BÜCHER.example", "leser@xn--bcher-kva.example"),
        ("leser@xn--bcher-kva.example", "leser@xn--bcher-kva.example"),
        ("user@例え.jp", "user@xn--r8jz45g.jp"),
    ],
)
def test_normalise_email_accepts_ascii_local_parts_and_idna_domains(typed, stored):
    assert services.normalise_email(typed) == stored


def test_an_address_too_long_once_its_domain_is_encoded_is_refused():
    label = "例え漢字語文書" * 3  # 21 characters, 54 once encoded
    address = "x" * 64 + "@" + ".".join([label] * 4) + ".jp"
    assert len(address) < services.MAX_EMAIL_LENGTH
    with pytest.raises(services.InvalidEmail):
        services.normalise_email(address)
    assert len(services.normalise_email("x@" + ".".join([label] * 4) + ".jp")) <= services.MAX_EMAIL_LENGTH


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

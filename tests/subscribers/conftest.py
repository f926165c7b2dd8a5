"""Fixtures of the newsletter tests (see `newsletter_support`)."""

import pytest

from subscribers import delivery
from tests.subscribers.newsletter_support import FakeClock, create_queues


def _prepare(aws, settings):
    settings.MYBLOG_SES_SENDER = "MyBlog <hello@myblog.example>"
    settings.MYBLOG_SES_CONFIGURATION_SET = "myblog-test"
    settings.MYBLOG_BLOG_NAME = "MyBlog"
    aws.client("sesv2").create_email_identity(EmailIdentity="myblog.example")
    create_queues()


@pytest.fixture
def clock(monkeypatch):
    """The senders' clock: SES calls paced at 100 a second, with sleeps that only move this clock."""
    fake = FakeClock()
    monkeypatch.setattr(delivery, "_pacer", delivery.Pacer(100, clock=fake, sleep=fake.sleep))
    yield fake
    delivery.forget_rate()


@pytest.fixture
def newsletter_aws(aws, settings, clock):
    """Newsletter sending on moto: SES with a verified domain, the newsletter queues, a fake clock."""
    _prepare(aws, settings)
    return aws


@pytest.fixture
def newsletter_dynamodb(dynamodb, settings, clock):
    """The same on both DynamoDB engines (moto and DynamoDB Local); SES and SQS on moto."""
    from myblog import aws

    _prepare(aws, settings)
    return dynamodb

"""The one place that builds AWS connections: clients, table names, DAX routing."""

from collections import OrderedDict
from datetime import timedelta

import botocore.loaders
from django.utils import timezone

from myblog import aws
from posts import queries, services
from posts.models import Post


def test_table_names_come_from_settings():
    assert Post.Meta.table_name == "test-posts"
    assert aws.table_name("subscribers") == "test-subscribers"


def test_clients_are_cached_per_service_and_region(aws):
    assert aws.client("s3") is aws.client("s3")
    assert aws.client("s3") is not aws.client("s3", "eu-west-1")
    assert aws.client("s3", "eu-west-1").meta.region_name == "eu-west-1"


def test_reads_and_model_writes_go_through_dax_when_configured(dax):
    published = timezone.now() - timedelta(hours=1)
    Post("via-dax", title="Through DAX", status="published", feed="published", publish_at=published).save()
    assert queries.get_live_post("via-dax").title == "Through DAX"
    list(Post.published_index.query("published"))
    assert dax.calls == ["put_item", "get_item", "query"]


def test_control_plane_calls_bypass_dax(dax):
    assert Post.exists()
    assert dax.calls == []


def test_transactions_go_through_dax(dax):
    services.create_post(slug="txn", title="Transaction")
    assert dax.calls == ["transact_write_items"]


def test_without_dax_nothing_is_routed(aws, monkeypatch):
    def fail(*args):
        raise AssertionError("DAX used without an endpoint")

    monkeypatch.setattr(aws, "_dax_client", fail)
    services.create_post(slug="direct", title="Direct")
    assert Post.get("direct").title == "Direct"


def test_botocores_data_files_are_read_as_plain_dicts_with_the_same_content_and_order():
    # Fresh loaders on both sides: botocore's endpoint resolver fills in the data it has loaded.
    ours = botocore.loaders.Loader(file_loader=aws.botocore_session().get_component("data_loader").file_loader)
    stock = botocore.loaders.Loader()
    for service in ("ssm", "dynamodb"):
        model = ours.load_service_model(service, "service-2")
        expected = stock.load_service_model(service, "service-2")
        assert type(model["operations"]) is dict
        assert type(expected["operations"]) is OrderedDict  # what the loader exists to avoid
        assert model == expected
        assert list(model["shapes"]) == list(expected["shapes"])
    assert ours.load_data("endpoints") == stock.load_data("endpoints")

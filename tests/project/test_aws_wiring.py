"""The one place that builds AWS connections: clients, table names, DAX routing."""

from collections import OrderedDict
from datetime import timedelta

import botocore.exceptions
import botocore.loaders
import pytest
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
    ours = aws.data_loader()
    stock = botocore.loaders.Loader()
    assert isinstance(aws.botocore_session().get_component("data_loader"), aws.Loader)
    for service in ("ssm", "dynamodb"):
        model = ours.load_service_model(service, "service-2")
        expected = stock.load_service_model(service, "service-2")
        assert type(model["operations"]) is dict
        assert type(expected["operations"]) is OrderedDict  # what the loader exists to avoid
        assert model == expected
        assert list(model["shapes"]) == list(expected["shapes"])
    assert ours.load_data("endpoints") == stock.load_data("endpoints")


def test_a_service_model_is_found_without_listing_every_service(monkeypatch):
    stock = botocore.loaders.Loader()
    wanted = [
        ("ssm", "endpoint-rule-set-1", None),
        ("dynamodb", "paginators-1", None),
        ("s3", "waiters-2", None),
        ("dynamodb", "endpoint-rule-set-1", "2011-12-05"),  # the version asked for, not the latest
    ]
    expected = {key: stock.load_service_model(*key) for key in wanted}

    def listing(self, type_name):
        raise AssertionError(f"listed every service's {type_name}")

    monkeypatch.setattr(aws.Loader, "list_available_services", listing)
    loader = aws.data_loader()
    for key, model in expected.items():
        assert loader.load_service_model(*key) == model
    assert loader.load_service_model("dynamodb", "endpoint-rule-set-1") != expected[wanted[3]]
    # boto3's own data (its resource models) too.
    boto3_loader = aws.boto3_session()._loader
    assert boto3_loader.load_service_model("dynamodb", "resources-1")["service"]["actions"]


def test_an_unknown_service_gets_botocores_error_naming_the_known_ones():
    with pytest.raises(botocore.exceptions.UnknownServiceError, match="Valid service names are: .*ssm"):
        aws.data_loader().load_service_model("no-such-service", "service-2")
    with pytest.raises(botocore.exceptions.UnknownServiceError):
        aws.data_loader().load_service_model("ssm", "no-such-kind-1")


def test_aws_data_path_folders_are_searched_first(tmp_path):
    folder = tmp_path / "ssm" / "2014-11-06"
    folder.mkdir(parents=True)
    (folder / "paginators-1.json").write_text('{"pagination": {}}')
    assert aws.data_loader(str(tmp_path)).load_service_model("ssm", "paginators-1") == {"pagination": {}}

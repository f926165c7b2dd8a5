"""Create or bring up to date the DynamoDB tables of every MyBlog model.

Idempotent: a missing table is created (on-demand billing, its GSIs,
stream and TTL attribute); an existing one gets any GSI, stream or TTL it
lacks. DynamoDB Local accepts UpdateTimeToLive (and describes it back) but
never deletes expired items, nor does moto: code reading a TTL table
compares the expiry itself, as it must on AWS, whose deletion is lazy. Used by the
`createtables` command, the local stack and the tests. Deployed stages
create their tables with `infra/` (global tables need CloudFormation), and
can run this to check them.
"""

import logging
import time

from pynamodb.attributes import TTLAttribute

from myblog import aws

log = logging.getLogger(__name__)


def _wait_active(client, name, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = client.describe_table(TableName=name)["Table"]
        busy = [i for i in table.get("GlobalSecondaryIndexes", []) if i.get("IndexStatus") not in (None, "ACTIVE")]
        if table["TableStatus"] == "ACTIVE" and not busy:
            return table
        time.sleep(0.5)
    raise TimeoutError(f"table {name} did not become ACTIVE in {timeout}s")


def ttl_attribute(model):
    """The name the model's `TTLAttribute` is stored under, or None."""
    for attribute in model.get_attributes().values():
        if isinstance(attribute, TTLAttribute):
            return attribute.attr_name
    return None


def _ensure_ttl(client, name, attribute):
    """Turn on DynamoDB TTL for `attribute`; True when it changed something."""
    if attribute is None:
        return False
    described = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    if described.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and described.get("AttributeName") == attribute:
        return False
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True})
    return True


def _key_schema(keys):
    """HASH before RANGE, as DynamoDB requires (PynamoDB lists keys by attribute name)."""
    return sorted(keys, key=lambda key: key["KeyType"])


def _index_definition(index):
    return {
        "IndexName": index["index_name"],
        "KeySchema": _key_schema(index["key_schema"]),
        "Projection": index["projection"],
    }


def _create(client, model, name, stream_view):
    """CreateTable from the model's schema, then wait for it and turn on its TTL.

    Made directly rather than through PynamoDB's `create_table`, which
    describes the table before and after and updates the TTL without
    knowing the table is new: a fresh table needs no more than these
    calls, which is what keeps creating every table (the tests do it for
    each test) cheap.
    """
    schema = model._get_schema()
    params = {
        "TableName": name,
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": _key_schema(schema["key_schema"]),
        "BillingMode": "PAY_PER_REQUEST",
    }
    if schema.get("global_secondary_indexes"):
        params["GlobalSecondaryIndexes"] = [_index_definition(i) for i in schema["global_secondary_indexes"]]
    if schema.get("local_secondary_indexes"):
        params["LocalSecondaryIndexes"] = [_index_definition(i) for i in schema["local_secondary_indexes"]]
    if stream_view:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream_view}
    client.create_table(**params)
    _wait_active(client, name)
    attribute = ttl_attribute(model)
    if attribute:
        specification = {"AttributeName": attribute, "Enabled": True}
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=specification)


def ensure_table(model):
    """Create `model`'s table or add what it lacks; returns a short report."""
    client = aws.client("dynamodb", model.Meta.region)
    name = model.Meta.table_name
    stream_view = getattr(model.Meta, "stream_view_type", None)
    try:
        table = client.describe_table(TableName=name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        _create(client, model, name, stream_view)
        return f"created {name}"

    changes = []
    schema = model._get_schema()
    existing = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
    definitions = schema["attribute_definitions"]
    for index in schema.get("global_secondary_indexes", []):
        if index["index_name"] in existing:
            continue
        client.update_table(
            TableName=name,
            AttributeDefinitions=definitions,
            GlobalSecondaryIndexUpdates=[{"Create": _index_definition(index)}],
        )
        _wait_active(client, name)
        changes.append(f"added index {index['index_name']}")
    stream = table.get("StreamSpecification", {})
    if stream_view and not stream.get("StreamEnabled"):
        client.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": stream_view})
        _wait_active(client, name)
        changes.append("enabled stream")
    if _ensure_ttl(client, name, ttl_attribute(model)):
        changes.append("enabled TTL")
    return f"updated {name}: {', '.join(changes)}" if changes else f"{name} is up to date"


def ensure_tables():
    return [ensure_table(model) for model in aws.all_models()]

"""DynamoDB's reads parsed in one pass (myblog/dynamodb_reads.py) give what botocore's own parser gives.

On generated answers of every read operation with every kind of attribute
value (binary ones, nested maps and lists, sets, NULL, BOOL), and on the
answers of moto and of DynamoDB Local to the same reads made by a client
of MyBlog's session and by a stock botocore client.
"""

import base64
import json

import botocore.parsers
import botocore.session
from botocore.model import ShapeResolver
from hypothesis import given, settings
from hypothesis import strategies as st

from myblog import aws, dynamodb_reads

PROPERTIES = settings(max_examples=300, deadline=None)
MODEL = botocore.session.get_session().get_service_model("dynamodb")
READS = ("GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems")

names = st.text(min_size=1, max_size=6)
blobs = st.binary(max_size=12).map(lambda data: base64.b64encode(data).decode())
numbers = st.integers(-(10**6), 10**6).map(str)
scalars = st.one_of(
    st.builds(lambda value: {"S": value}, st.text(max_size=8)),
    st.builds(lambda value: {"N": value}, numbers),
    st.builds(lambda value: {"B": value}, blobs),
    st.builds(lambda value: {"SS": value}, st.lists(st.text(max_size=4), min_size=1, max_size=3, unique=True)),
    st.builds(lambda value: {"NS": value}, st.lists(numbers, min_size=1, max_size=3, unique=True)),
    st.builds(lambda value: {"BS": value}, st.lists(blobs, min_size=1, max_size=3, unique=True)),
    st.just({"NULL": True}),
    st.builds(lambda value: {"BOOL": value}, st.booleans()),
)
attribute_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.builds(lambda value: {"M": value}, st.dictionaries(names, children, max_size=3)),
        st.builds(lambda value: {"L": value}, st.lists(children, max_size=3)),
    ),
    max_leaves=12,
)
items = st.dictionaries(names, attribute_values, min_size=1, max_size=5)
capacity = st.builds(lambda units: {"TableName": "posts", "CapacityUnits": units}, st.sampled_from([0.5, 1.0, 12.5]))


@st.composite
def answers(draw):
    """(operation, the JSON body DynamoDB would answer it with)."""
    operation = draw(st.sampled_from(READS))
    if operation == "GetItem":
        body = {"Item": draw(items)} if draw(st.booleans()) else {}
    elif operation in ("Query", "Scan"):
        found = draw(st.lists(items, max_size=4))
        body = {"Items": found, "Count": len(found), "ScannedCount": len(found) + draw(st.integers(0, 3))}
        if draw(st.booleans()):
            body["LastEvaluatedKey"] = draw(items)
    elif operation == "BatchGetItem":
        body = {
            "Responses": draw(st.dictionaries(names, st.lists(items, max_size=3), max_size=2)),
            "UnprocessedKeys": draw(
                st.dictionaries(
                    names,
                    st.fixed_dictionaries(
                        {"Keys": st.lists(items, min_size=1, max_size=2)},
                        optional={"ProjectionExpression": st.just("#a"), "ConsistentRead": st.booleans()},
                    ),
                    max_size=2,
                )
            ),
        }
    else:
        body = {"Responses": draw(st.lists(st.one_of(st.just({}), st.builds(lambda i: {"Item": i}, items))))}
    if draw(st.booleans()):
        body["ConsumedCapacity"] = (
            [draw(capacity)] if operation in ("BatchGetItem", "TransactGetItems") else draw(capacity)
        )
    return operation, body


def _response(body):
    return {
        "status_code": 200,
        "headers": {"x-amzn-requestid": "REQUEST", "content-type": "application/x-amz-json-1.0"},
        "body": json.dumps(body).encode(),
    }


def _both(shape, body):
    ours = dynamodb_reads.ReadParser().parse(_response(body), shape)
    theirs = botocore.parsers.JSONParser().parse(_response(body), shape)
    return ours, theirs


@PROPERTIES
@given(answers())
def test_every_read_answer_parses_as_botocore_parses_it(answer):
    operation, body = answer
    ours, theirs = _both(MODEL.operation_model(operation).output_shape, body)
    assert ours == theirs


def test_binary_values_are_decoded_at_every_depth():
    raw = base64.b64encode(b"\x00\xffkey").decode()
    body = {"Items": [{"k": {"B": raw}, "m": {"M": {"B": {"L": [{"BS": [raw]}, {"S": "B"}]}}}}], "Count": 1}
    ours, theirs = _both(MODEL.operation_model("Query").output_shape, body)
    assert ours == theirs
    assert ours["Items"][0]["k"] == {"B": b"\x00\xffkey"}
    assert ours["Items"][0]["m"]["M"]["B"]["L"][0] == {"BS": [b"\x00\xffkey"]}


def test_other_answers_are_botocores_own_parsing():
    """A write, an error, and an output of another JSON service that shares a read's shape name."""
    put = MODEL.operation_model("PutItem").output_shape
    assert _both(put, {"Attributes": {"k": {"S": "v"}}})[0] == _both(put, {"Attributes": {"k": {"S": "v"}}})[1]
    error = {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "message": "no"}
    response = {**_response(error), "status_code": 400}
    parsed = dynamodb_reads.ReadParser().parse(response, MODEL.operation_model("GetItem").output_shape)
    assert parsed["Error"]["Code"] == "ConditionalCheckFailedException"
    # No other JSON service of botocore's has these shape names today; one that came to would have its own members.
    shape = ShapeResolver(
        {
            "QueryOutput": {"type": "structure", "members": {"Rows": {"shape": "Rows"}}},
            "Rows": {"type": "list", "member": {"shape": "Row"}},
            "Row": {"type": "string"},
        }
    ).get_shape_by_name("QueryOutput")
    ours, theirs = _both(shape, {"Rows": ["a"], "Unknown": 1})
    assert ours == theirs and "Unknown" not in ours


def test_the_shared_sessions_clients_parse_reads_in_one_pass():
    factory = aws.botocore_session().get_component("response_parser_factory")
    assert isinstance(factory.create_parser("json"), dynamodb_reads.ReadParser)
    assert type(factory.create_parser("rest-xml")) is botocore.parsers.RestXMLParser


STORED = {
    "blob": {"B": b"\x00\x01binary\xff"},
    "blobs": {"BS": [b"a", b"\x00"]},
    "nested": {"M": {"B": {"L": [{"B": b"deep"}, {"N": "1.5"}, {"NULL": True}]}, "flag": {"BOOL": False}}},
    "names": {"SS": ["x", "y"]},
    "counts": {"NS": ["1", "2"]},
    "title": {"S": "Ünïcode ✓"},
}


def test_the_engines_answers_parse_as_botocore_parses_them(dynamodb):
    """The same reads, by a client of MyBlog's session and by a stock botocore client, on moto and DynamoDB Local."""
    from django.conf import settings

    table = settings.MYBLOG_TABLES["posts"]
    ours = aws.client("dynamodb")
    stock = botocore.session.get_session().create_client("dynamodb", region_name=settings.AWS_REGION)
    for slug in ("first", "second"):
        ours.put_item(TableName=table, Item={"slug": {"S": slug}, **STORED})
    key = {"slug": {"S": "first"}}
    reads = [
        ("get_item", {"TableName": table, "Key": key, "ReturnConsumedCapacity": "TOTAL"}),
        (
            "query",
            {
                "TableName": table,
                "KeyConditionExpression": "slug = :s",
                "ExpressionAttributeValues": {":s": {"S": "first"}},
            },
        ),
        ("scan", {"TableName": table, "Limit": 1}),
        ("batch_get_item", {"RequestItems": {table: {"Keys": [key, {"slug": {"S": "second"}}]}}}),
        ("transact_get_items", {"TransactItems": [{"Get": {"TableName": table, "Key": key}}]}),
    ]
    for method, arguments in reads:
        answers = [getattr(client, method)(**arguments) for client in (ours, stock)]
        for answer in answers:
            answer.pop("ResponseMetadata")
        assert answers[0] == answers[1], method
    [found] = ours.query(**reads[1][1])["Items"]
    assert found["blob"] == {"B": b"\x00\x01binary\xff"}
    assert found["nested"]["M"]["B"]["L"][0] == {"B": b"deep"}

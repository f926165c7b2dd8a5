"""DynamoDB's read responses, parsed in one pass instead of botocore's walk of the service model.

botocore turns every response into Python by walking the operation's
output shape: for a Query that is a dozen method calls for each attribute
of each item. On a listing or a feed it was a fifth of a warm request's
time, more than rendering the page. Yet DynamoDB's JSON already has the
form botocore returns, but for one thing: binary values (`B`, `BS`) come
base64-encoded. `ReadParser` decodes the JSON once and walks only the
attribute values, to decode those, giving the same dicts botocore gives
(tests/project/test_dynamodb_reads.py compares the two on every kind of
attribute value and every read operation).

Only the successful answers of the reads (GetItem, BatchGetItem, Query,
Scan, TransactGetItems) take this path; writes, errors, and every other
service speaking the JSON protocol on the shared botocore session are
parsed by botocore itself. Reads through DAX never come here (its client
has its own wire format).
"""

import botocore.parsers

# The output shapes of DynamoDB's reads, with their members as the service model has them: a shape of
# another service that shared a name would not share its members, and is parsed by botocore.
QUERY_MEMBERS = frozenset({"Items", "Count", "ScannedCount", "LastEvaluatedKey", "ConsumedCapacity"})
READ_OUTPUTS = {
    "GetItemOutput": frozenset({"Item", "ConsumedCapacity"}),
    "QueryOutput": QUERY_MEMBERS,
    "ScanOutput": QUERY_MEMBERS,
    "BatchGetItemOutput": frozenset({"Responses", "UnprocessedKeys", "ConsumedCapacity"}),
    "TransactGetItemsOutput": frozenset({"Responses", "ConsumedCapacity"}),
}


def attribute_value(value, blob):
    """One AttributeValue as botocore gives it: binary values decoded by `blob`, maps and lists walked."""
    if "S" in value or "N" in value:
        return value
    if "M" in value:
        return {"M": item(value["M"], blob)}
    if "L" in value:
        return {"L": [attribute_value(member, blob) for member in value["L"]]}
    if "B" in value:
        return {"B": blob(value["B"])}
    if "BS" in value:
        return {"BS": [blob(member) for member in value["BS"]]}
    return value  # SS, NS, BOOL, NULL


def item(attributes, blob):
    """An item (or a key) as botocore gives it."""
    return {name: attribute_value(value, blob) for name, value in attributes.items()}


def read_output(shape_name, parsed, blob):
    """The decoded JSON of a read's answer (`shape_name`, one of READ_OUTPUTS), as botocore gives it."""
    if "Item" in parsed:
        parsed["Item"] = item(parsed["Item"], blob)
    if "Items" in parsed:
        parsed["Items"] = [item(found, blob) for found in parsed["Items"]]
    if "LastEvaluatedKey" in parsed:
        parsed["LastEvaluatedKey"] = item(parsed["LastEvaluatedKey"], blob)
    if shape_name == "BatchGetItemOutput":
        responses = parsed.get("Responses", {})
        parsed["Responses"] = {table: [item(found, blob) for found in items] for table, items in responses.items()}
        for keys_and_attributes in parsed.get("UnprocessedKeys", {}).values():
            keys_and_attributes["Keys"] = [item(key, blob) for key in keys_and_attributes.get("Keys", [])]
    elif shape_name == "TransactGetItemsOutput":
        for response in parsed.get("Responses", []):
            if "Item" in response:
                response["Item"] = item(response["Item"], blob)
    return parsed


class ReadParser(botocore.parsers.JSONParser):
    """botocore's JSON protocol parser, with DynamoDB's reads parsed in one pass (`read_output`)."""

    def _handle_json_body(self, raw_body, shape):
        if shape is None or READ_OUTPUTS.get(shape.name) != frozenset(shape.members):
            return super()._handle_json_body(raw_body, shape)
        parsed = self._parse_body_as_json(raw_body)
        return read_output(shape.name, parsed, self._blob_parser)


class ResponseParserFactory(botocore.parsers.ResponseParserFactory):
    """botocore's parser factory (a session component), making `ReadParser`s for the JSON protocol."""

    def create_parser(self, protocol_name):
        if protocol_name == "json":
            return ReadParser(**self._defaults)
        return super().create_parser(protocol_name)

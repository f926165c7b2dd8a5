"""Complete what Zappa leaves undone in a stage's event bindings: stream and queue mappings, S3 grants.

Zappa 0.63 creates a DynamoDB stream (or Kinesis) mapping with only
`BatchSize` and `Enabled`, and an SQS mapping with only those and
`MaximumBatchingWindowInSeconds` (zappa/utilities.py,
EventSourceMappingMixin.add): it reads neither a stream's
`starting_position` nor any error-handling or scaling setting. AWS
requires `StartingPosition` for a stream, so on AWS that call fails (Zappa
logs "Unable to add event source" and carries on) and the welcome emails
would never be sent; an SQS mapping is created, but without
ReportBatchItemFailures a handler's partial batch response is ignored (one
failed message redoes the whole batch) and without a maximum concurrency
the newsletter senders would outrun SES's sending rate. Run this after
every `zappa deploy` / `zappa update`:

    .venv/bin/python infra/event_mappings.py prod

For each events binding whose `event_source.arn` is a DynamoDB or Kinesis
stream or an SQS queue it creates the mapping, or updates an existing one,
with every setting of the binding in zappa_settings.json:

    starting_position              StartingPosition (streams; creation only)
    batch_size                     BatchSize
    maximum_batching_window        MaximumBatchingWindowInSeconds (streams)
    batch_window                   MaximumBatchingWindowInSeconds (queues; Zappa's key and default)
    function_response_types        FunctionResponseTypes (ReportBatchItemFailures)
    maximum_concurrency            ScalingConfig.MaximumConcurrency (queues)
    bisect_batch_on_function_error BisectBatchOnFunctionError (streams)
    maximum_retry_attempts         MaximumRetryAttempts (streams)
    maximum_record_age             MaximumRecordAgeInSeconds (streams)
    on_failure                     DestinationConfig.OnFailure.Destination (streams)
    filter_patterns                FilterCriteria (one filter per pattern)
    enabled                        Enabled

A queue's retries and dead-letter queue are the queue's own (its
RedrivePolicy in infra/myblog.yaml), not the mapping's. Zappa's later
`update` calls only touch BatchSize, Enabled and, for a queue, the batching
window, which this sets to the same values, so the two never fight.

It also holds each S3 binding's invoke permission to the stage's account
(`infra/invoke_permissions.py`): Zappa's names only the bucket.
"""

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra import invoke_permissions  # noqa: E402
from infra.stage_settings import REPO, lambda_name, stage_config  # noqa: E402

STREAM_SERVICES = {"dynamodb", "kinesis"}
QUEUE_SERVICES = {"sqs"}


def _service(event_source):
    arn = event_source.get("arn", "")
    return arn.split(":")[2] if arn.startswith("arn:") and arn.count(":") >= 5 else ""


def is_stream(event_source):
    return _service(event_source) in STREAM_SERVICES


def is_queue(event_source):
    return _service(event_source) in QUEUE_SERVICES


def is_mapped(event_source):
    """Whether Lambda polls the source through an event-source mapping (a stream or a queue)."""
    return is_stream(event_source) or is_queue(event_source)


def _filter_criteria(patterns):
    return {"Filters": [{"Pattern": json.dumps(pattern, sort_keys=True)} for pattern in patterns]}


def queue_mapping_settings(event_source):
    """An SQS binding's mapping settings (API names).

    The batching window is read as Zappa reads it (`batch_window`, default
    1 s above 10 messages a batch, else 0), so that Zappa's own update
    sets the same value.
    """
    batch_size = event_source.get("batch_size", 10)
    settings = {
        "BatchSize": batch_size,
        "Enabled": event_source.get("enabled", True),
        "MaximumBatchingWindowInSeconds": event_source.get("batch_window", 1 if batch_size > 10 else 0),
    }
    if "function_response_types" in event_source:
        settings["FunctionResponseTypes"] = event_source["function_response_types"]
    if "maximum_concurrency" in event_source:
        settings["ScalingConfig"] = {"MaximumConcurrency": event_source["maximum_concurrency"]}
    if "filter_patterns" in event_source:
        settings["FilterCriteria"] = _filter_criteria(event_source["filter_patterns"])
    return settings


def mapping_settings(event_source):
    """The updatable mapping settings a binding asks for (API names)."""
    if is_queue(event_source):
        return queue_mapping_settings(event_source)
    settings = {
        "BatchSize": event_source.get("batch_size", 10),
        "Enabled": event_source.get("enabled", True),
    }
    optional = {
        "maximum_batching_window": "MaximumBatchingWindowInSeconds",
        "function_response_types": "FunctionResponseTypes",
        "bisect_batch_on_function_error": "BisectBatchOnFunctionError",
        "maximum_retry_attempts": "MaximumRetryAttempts",
        "maximum_record_age": "MaximumRecordAgeInSeconds",
    }
    for key, name in optional.items():
        if key in event_source:
            settings[name] = event_source[key]
    if "on_failure" in event_source:
        settings["DestinationConfig"] = {"OnFailure": {"Destination": event_source["on_failure"]}}
    if "filter_patterns" in event_source:
        settings["FilterCriteria"] = _filter_criteria(event_source["filter_patterns"])
    return settings


def current_settings(mapping):
    """A GetEventSourceMapping answer in the terms of `mapping_settings`.

    The answer has `State` ("Enabled", "Enabling", ...) where the request
    had `Enabled`.
    """
    current = dict(mapping)
    if "State" in mapping:
        current["Enabled"] = mapping["State"] in ("Enabled", "Enabling", "Creating", "Updating")
    return current


def differences(mapping, wanted):
    """Names of the settings in `wanted` that `mapping` does not have."""
    current = current_settings(mapping)
    return sorted(name for name, value in wanted.items() if current.get(name) != value)


def ensure_mapping(lambda_client, function_arn, event_source):
    """Create or bring up to date the mapping of one stream or queue binding; returns a report line."""
    arn = event_source["arn"]
    wanted = mapping_settings(event_source)
    stream = is_stream(event_source)
    starting_position = event_source.get("starting_position", "TRIM_HORIZON") if stream else None
    found = [
        mapping
        for mapping in lambda_client.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
        if mapping["FunctionArn"].split(":")[6] == function_arn.split(":")[6]
    ]
    if not found:
        # A queue has no starting position: AWS refuses one for SQS.
        position = {"StartingPosition": starting_position} if stream else {}
        lambda_client.create_event_source_mapping(FunctionName=function_arn, EventSourceArn=arn, **position, **wanted)
        described = [starting_position, *sorted(wanted)] if stream else sorted(wanted)
        return f"created {arn} -> {function_arn.split(':')[6]} ({', '.join(described)})"
    mapping = lambda_client.get_event_source_mapping(UUID=found[0]["UUID"])
    lines = []
    if stream and mapping.get("StartingPosition") != starting_position:
        # The starting position cannot be changed after creation.
        lines.append(
            f"note: mapping {mapping['UUID']} starts at {mapping.get('StartingPosition')}, not {starting_position}"
        )
    changed = differences(mapping, wanted)
    if changed:
        lambda_client.update_event_source_mapping(UUID=mapping["UUID"], **{name: wanted[name] for name in changed})
        lines.append(f"updated {arn}: {', '.join(changed)}")
    else:
        lines.append(f"{arn} is up to date")
    return "; ".join(lines)


def ensure_stage(stage, settings_path=REPO / "zappa_settings.json", session=None):
    """Complete every stream and queue mapping of `stage`, and bind its S3 grants to the account; report lines."""
    import boto3

    config = stage_config(settings_path, stage)
    session = session or boto3.session.Session(region_name=config["aws_region"])
    lambda_client = session.client("lambda", region_name=config["aws_region"])
    function_arn = lambda_client.get_function(FunctionName=lambda_name(config, stage))["Configuration"]["FunctionArn"]
    sources = [event["event_source"] for event in config.get("events", []) if "event_source" in event]
    return [
        *(ensure_mapping(lambda_client, function_arn, source) for source in sources if is_mapped(source)),
        *invoke_permissions.ensure_permissions(lambda_client, function_arn, sources),
    ]


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage")
    parser.add_argument("--settings", default=str(REPO / "zappa_settings.json"))
    args = parser.parse_args(argv)
    for line in ensure_stage(args.stage, Path(args.settings)):
        print(line)


if __name__ == "__main__":
    main()

"""Run Zappa's command line against moto server, answering where moto and AWS differ.

    var/deploy/venv/bin/python infra/zappa_driver.py deploy rehearsal -s SETTINGS -z ZIP

The deploy rehearsal runs Zappa through this script, in the deploy
virtualenv, instead of `zappa` itself. Everything Zappa sends reaches moto
server unchanged, except:

- `ListFunctionUrlConfigs` (called by `zappa update`) is answered with an
  empty list, as AWS answers for a function without a URL
  (`function_url_enabled` is off in every stage): moto lacks the operation.
- `CreateEventSourceMapping` for a DynamoDB or Kinesis stream without
  `StartingPosition` is refused with InvalidParameterValueException, as AWS
  refuses it; moto would accept it and fill in TRIM_HORIZON, hiding the
  reason infra/event_mappings.py exists.

The event-source calls Zappa makes (operation, region and parameters, as
Zappa sent them) are appended as JSON lines to the file named by
MYBLOG_ZAPPA_CALLS, so the rehearsal checks what Zappa itself asked for.
"""

import json
import os
import sys

RECORDED = {
    "CreateEventSourceMapping",
    "UpdateEventSourceMapping",
    "DeleteEventSourceMapping",
    "PutBucketNotificationConfiguration",
    "Subscribe",
    "PutRule",
    "PutTargets",
}
STREAM_SERVICES = ("dynamodb", "kinesis")


def is_stream(arn):
    return arn.startswith("arn:") and arn.split(":")[2] in STREAM_SERVICES


def install(record_path):
    """Wrap botocore's one entry point for API calls."""
    import botocore.client
    from botocore.exceptions import ClientError

    make_api_call = botocore.client.BaseClient._make_api_call

    def answer(self, operation_name, api_params):
        if operation_name in RECORDED and record_path:
            with open(record_path, "a") as record:
                call = {"operation": operation_name, "region": self.meta.region_name, "params": api_params}
                record.write(json.dumps(call, default=str) + "\n")
        if operation_name == "ListFunctionUrlConfigs":
            return {"FunctionUrlConfigs": []}
        if (
            operation_name == "CreateEventSourceMapping"
            and is_stream(api_params.get("EventSourceArn", ""))
            and "StartingPosition" not in api_params
        ):
            raise ClientError(
                {
                    "Error": {
                        "Code": "InvalidParameterValueException",
                        "Message": "StartingPosition is required for a stream event source (refused as AWS does)",
                    },
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                operation_name,
            )
        return make_api_call(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = answer


def main():
    # This script's folder (infra/) must not shadow the packages Zappa imports.
    sys.path.pop(0)
    install(os.environ.get("MYBLOG_ZAPPA_CALLS"))
    from zappa.cli import handle

    sys.argv = ["zappa", *sys.argv[1:]]
    return handle()


if __name__ == "__main__":
    sys.exit(main())

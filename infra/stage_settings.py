"""Write a CloudFormation stack's outputs into a Zappa stage.

zappa_settings.json is the single source of truth for a stage, but some of
its values only exist once infra/myblog.yaml is deployed: the subscribers
stream ARN (its label is the creation time), the DAX endpoint, the subnets
and security group, the CloudFront distribution, the dead-letter queue, the
batch-job queues. After each infra deploy:

    .venv/bin/python infra/stage_settings.py prod          # stack myblog-prod
    .venv/bin/python infra/stage_settings.py prod_eu       # stack myblog-prod in eu-west-1
    git diff zappa_settings.json                           # review, then commit

A stage in a secondary region also reads the home stack (the stack's
HomeRegion parameter), which owns the tables, the bucket, CloudFront and SES.
The values are written into the stage's own entry (inherited `events` and
`environment_variables` are copied in), since Zappa merges `extends` only
one level deep.
"""

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Output of the regional stack -> environment variable.
REGIONAL_ENVIRONMENT = {"TablePrefix": "MYBLOG_TABLE_PREFIX", "DaxEndpoint": "MYBLOG_DAX_ENDPOINT"}
# Output of the home stack -> environment variable.
HOME_ENVIRONMENT = {
    "MediaBucket": "MYBLOG_MEDIA_BUCKET",
    "CloudFrontDomain": "MYBLOG_CLOUDFRONT_DOMAIN",
    "DistributionId": "MYBLOG_CLOUDFRONT_DISTRIBUTION_ID",
    "SesConfigurationSet": "MYBLOG_SES_CONFIGURATION_SET",
    "QueuePrefix": "MYBLOG_QUEUE_PREFIX",
}


def queue_output(name):
    """The home stack's output holding the ARN of batch-job queue `name` (newsletter-send: NewsletterSendQueueArn)."""
    return "".join(part.capitalize() for part in name.split("-")) + "QueueArn"


def load(path):
    return json.loads(Path(path).read_text())


def stage_config(path_or_settings, stage):
    """A stage's settings with `extends` applied the way Zappa applies them."""
    settings = path_or_settings if isinstance(path_or_settings, dict) else load(path_or_settings)
    seen = []
    config = {}
    while stage:
        if stage in seen:
            raise ValueError(f"circular extends: {seen + [stage]}")
        seen.append(stage)
        config = {**settings[stage], **config}
        stage = settings[stage].get("extends")
    return config


def lambda_name(config, stage):
    """The function name Zappa gives a stage (slugified project-stage)."""
    return re.sub(r"[^a-z0-9]+", "-", f"{config['project_name']}-{stage}".lower()).strip("-")


def default_stack_name(stage):
    """myblog-prod for prod, prod_eu and any prod_* stage."""
    return f"myblog-{stage.split('_')[0]}"


def stack(cloudformation, name):
    found = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in found.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}
    return outputs, parameters


def apply_outputs(config, outputs, home_outputs):
    """The keys of a stage entry that the outputs determine, and what is missing.

    `config` is the stage as Zappa sees it (extends applied).
    """
    updates = {}
    missing = []

    def need(source, name):
        if name not in source:
            missing.append(name)
        return source.get(name)

    updates["role_arn"] = need(outputs, "LambdaRoleArn")
    updates["s3_bucket"] = need(outputs, "DeploymentBucket")
    # Failed asynchronous events (S3, SNS, schedules) go to the region's queue.
    updates["dead_letter_arn"] = need(outputs, "AsyncFailuresQueueArn")
    if "vpc_config" in config or "DaxEndpoint" in outputs:
        subnets = need(outputs, "SubnetIds")
        group = need(outputs, "LambdaSecurityGroupId")
        if subnets and group:
            updates["vpc_config"] = {"SubnetIds": subnets.split(","), "SecurityGroupIds": [group]}

    environment = dict(config.get("environment_variables", {}))
    for output, variable in REGIONAL_ENVIRONMENT.items():
        if output in outputs:
            environment[variable] = outputs[output]
        elif variable in environment and output == "DaxEndpoint":
            missing.append(output)
    for output, variable in HOME_ENVIRONMENT.items():
        if variable in environment or output in home_outputs:
            environment[variable] = need(home_outputs, output) or environment.get(variable)
    updates["environment_variables"] = environment

    events = []
    for event in config.get("events", []):
        event = json.loads(json.dumps(event))
        source = event.get("event_source")
        if source:
            service = source["arn"].split(":")[2]
            if service == "s3":
                source["arn"] = f"arn:aws:s3:::{need(home_outputs, 'MediaBucket')}"
            elif service == "dynamodb":
                source["arn"] = need(home_outputs, "SubscribersStreamArn")
                if "on_failure" in source:
                    source["on_failure"] = need(home_outputs, "StreamFailuresQueueArn")
            elif service == "sns":
                source["arn"] = need(home_outputs, "SesNotificationsTopicArn")
            elif service == "sqs":
                prefix = environment.get("MYBLOG_QUEUE_PREFIX", "")
                name = source["arn"].rsplit(":", 1)[1].removeprefix(prefix)
                source["arn"] = need(home_outputs, queue_output(name)) or source["arn"]
        events.append(event)
    updates["events"] = events
    return {key: value for key, value in updates.items() if value is not None}, sorted(set(missing))


def sync(stage, settings_path=REPO / "zappa_settings.json", stack_name=None, session=None):
    """Write the stack outputs into `stage` of `settings_path`; returns report lines."""
    import boto3

    settings = load(settings_path)
    config = stage_config(settings, stage)
    region = config["aws_region"]
    session = session or boto3.session.Session(region_name=region)
    stack_name = stack_name or default_stack_name(stage)
    outputs, parameters = stack(session.client("cloudformation", region_name=region), stack_name)
    home_region = parameters.get("HomeRegion", region)
    if home_region == region:
        home_outputs = outputs
    else:
        home_outputs, _ = stack(session.client("cloudformation", region_name=home_region), stack_name)
    updates, missing = apply_outputs(config, outputs, home_outputs)

    report = []
    entry = settings[stage]
    for key, value in updates.items():
        if config.get(key) != value:
            report.append(f"{stage}.{key}: updated")
        entry[key] = value
    Path(settings_path).write_text(json.dumps(settings, indent=4) + "\n")
    report += [f"missing output {name} (see infra/README.md)" for name in missing]
    return report or [f"{stage}: already matches {stack_name}"]


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage")
    parser.add_argument("--settings", default=str(REPO / "zappa_settings.json"))
    parser.add_argument("--stack", help="stack name (default myblog-<stage before any _>)")
    args = parser.parse_args(argv)
    for line in sync(args.stage, Path(args.settings), args.stack):
        print(line)


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(REPO))
    main()

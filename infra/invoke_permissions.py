"""Hold the function's S3 invoke permissions to the stage's own account.

Zappa 0.63 lets a bucket invoke the function with a statement naming only
the bucket's ARN (zappa/utilities.py, S3EventSource.add: `StatementId`
`s3-<bucket>`, `SourceArn` `arn:aws:s3:::<bucket>`). A bucket ARN has no
account in it, and bucket names are freed when a bucket is deleted: with
such a statement, a bucket of the same name in another account could invoke
the function (the confused deputy AWS's Lambda documentation warns of). The
schedule, SNS and queue sources name ARNs that do hold the account, so only
S3 needs this.

For each S3 binding of the stage this adds `s3-<bucket>-account`, the same
grant with an `aws:SourceAccount` condition on the function's own account,
then removes every other statement that lets S3 invoke the function
(Zappa's, and those of buckets no longer bound). The new statement is added
before the old one goes, so uploads are never refused in between. Zappa's
later `update` removes and re-adds its own statement, so this runs after
every `zappa deploy`/`zappa update`, with the event mappings
(`infra/event_mappings.py` calls it).
"""

import json

S3_PRINCIPAL = "s3.amazonaws.com"


def is_bucket(event_source):
    return event_source.get("arn", "").startswith("arn:aws:s3:::")


def statement_id(bucket_arn):
    return f"s3-{bucket_arn.split(':::', 1)[1]}-account"


def _statements(lambda_client, function_arn):
    try:
        policy = lambda_client.get_policy(FunctionName=function_arn)["Policy"]
    except lambda_client.exceptions.ResourceNotFoundException:
        return []  # no resource policy yet
    return json.loads(policy)["Statement"]


def _principal(statement):
    principal = statement.get("Principal")
    return principal.get("Service") if isinstance(principal, dict) else principal


def held_to(statement, bucket_arn, account):
    """Whether `statement` lets only `bucket_arn`, in `account`, invoke the function (as AWS writes it)."""
    condition = statement.get("Condition", {})
    arn = {key.lower(): value for key, value in condition.get("ArnLike", {}).items()}.get("aws:sourcearn")
    source = {key.lower(): value for key, value in condition.get("StringEquals", {}).items()}.get("aws:sourceaccount")
    return _principal(statement) == S3_PRINCIPAL and arn == bucket_arn and source == account


def ensure_permissions(lambda_client, function_arn, event_sources):
    """Make the function's S3 statements exactly one per bucket of `event_sources`, each held to its account.

    Returns report lines.
    """
    name, account = function_arn.split(":")[6], function_arn.split(":")[4]
    wanted = {statement_id(source["arn"]): source["arn"] for source in event_sources if is_bucket(source)}
    statements = {statement["Sid"]: statement for statement in _statements(lambda_client, function_arn)}
    lines = []
    for sid, bucket_arn in wanted.items():
        if sid in statements and held_to(statements[sid], bucket_arn, account):
            lines.append(f"{bucket_arn} may invoke {name} from account {account} only")
            continue
        if sid in statements:  # (changed by hand: put back)
            lambda_client.remove_permission(FunctionName=function_arn, StatementId=sid)
        lambda_client.add_permission(
            FunctionName=function_arn,
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal=S3_PRINCIPAL,
            SourceArn=bucket_arn,
            SourceAccount=account,
        )
        lines.append(f"granted {bucket_arn} -> {name} (aws:SourceAccount {account})")
    for sid, statement in statements.items():
        if _principal(statement) == S3_PRINCIPAL and sid not in wanted:
            lambda_client.remove_permission(FunctionName=function_arn, StatementId=sid)
            lines.append(f"removed S3 statement {sid} (not an account-bound grant of a bound bucket)")
    return lines

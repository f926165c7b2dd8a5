"""The check that the shipped code's AWS calls are ones the Lambda runtime's SDK accepts (tests.runtime_sdk_calls)."""

import pytest
from django.conf import settings

from posts.search_index import _put_object_if
from tests.runtime_sdk_calls import UnknownToRuntime, check_call


def test_a_parameter_newer_than_the_runtime_sdk_is_refused():
    # S3's conditional writes came after botocore 1.30: the runtime refuses them before sending.
    with pytest.raises(UnknownToRuntime, match="IfNoneMatch"):
        check_call("s3", "PutObject", {"Bucket": "media", "Key": "search/index.json", "IfNoneMatch": "*"})
    check_call("s3", "PutObject", {"Bucket": "media", "Key": "search/index.json", "Body": b"{}"})


def test_an_operation_the_runtime_sdk_does_not_have_is_refused():
    with pytest.raises(UnknownToRuntime, match="not an operation"):
        check_call("s3", "RenameObject", {"Bucket": "media", "Key": "a", "RenameSource": "b"})


def test_calls_of_the_shipped_code_are_checked_and_the_tests_own_are_not(aws):
    s3 = aws.client("s3")
    bucket = settings.MYBLOG_MEDIA_BUCKET
    # Made by shipped code (posts.search_index) with the parameter: refused, as on the function.
    with pytest.raises(UnknownToRuntime, match="IfNoneMatch"):
        _put_object_if(s3, {}, Bucket=bucket, Key="search/a.json", Body=b"{}", IfNoneMatch="*")
    # The same condition as a header, as the shipped code sends it: accepted, and written.
    _put_object_if(s3, {"If-None-Match": "*"}, Bucket=bucket, Key="search/b.json", Body=b"{}")
    assert s3.get_object(Bucket=bucket, Key="search/b.json")["Body"].read() == b"{}"
    # The test's own call, never shipped: not checked.
    s3.put_object(Bucket=bucket, Key="search/c.json", Body=b"{}", IfNoneMatch="*")

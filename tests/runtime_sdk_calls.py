"""Every AWS call the shipped code makes in a test is checked against the Lambda runtime's own SDK.

A deployed function runs on the boto3 and botocore that Lambda's python3.11
runtime provides (`devstack/lambda-runtime-requirements.txt`), which are
older than the virtualenv's. botocore validates a call's parameters against
its own service models before sending anything, so a parameter added to an
AWS API since that release (S3's `IfNoneMatch` on PutObject, for one) is
refused on the function although every test here passes with it.

So, in every test, each call that MyBlog's shipped code makes (through
boto3 or PynamoDB: any botocore client) is validated a second time, with
the runtime SDK's models: an operation or a parameter the runtime does not
know raises the runtime's `ParamValidationError` in the test, as the call
would on the function. Calls the tests make themselves (setting up moto,
reading what a handler wrote) are not checked: they never ship.
"""

import functools
import os
import sys
from pathlib import Path

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ParamValidationError
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.validate import ParamValidator

ROOT = Path(__file__).resolve().parent.parent
# The apps the deployment package carries (everything else at the top of the checkout stays out of it).
SHIPPED = frozenset({"myblog", "posts", "photos", "subscribers", "dynamo_admin"})


class UnknownToRuntime(ParamValidationError):
    """A call the runtime's SDK would refuse."""


@functools.cache
def runtime_models():
    """A loader of the runtime SDK's service models only (None where it cannot be installed outside CI)."""
    from devstack.lambda_runtime import runtime_sdk

    try:
        sdk = runtime_sdk()
    except Exception:
        if os.environ.get("CI", "").lower() == "true":
            raise
        return None
    return Loader(extra_search_paths=[str(sdk / "botocore" / "data")], include_default_search_paths=False)


@functools.cache
def runtime_service(service_name):
    loader = runtime_models()
    return ServiceModel(loader.load_service_model(service_name, "service-2"), service_name=service_name)


def shipped_caller():
    """The module of the shipped code this call comes from, or None (a test's own call, or the SDK's)."""
    frame = sys._getframe(2)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        try:
            relative = path.relative_to(ROOT)
        except ValueError:
            frame = frame.f_back  # boto3, botocore, PynamoDB, moto: keep looking for who called them
            continue
        if relative.parts[0] == ".venv":
            frame = frame.f_back
            continue
        return relative if relative.parts[0] in SHIPPED else None
    return None


def check_call(service_name, operation_name, params):
    """Raise `UnknownToRuntime` if the runtime's SDK would refuse this call."""
    if runtime_models() is None:
        return
    service = runtime_service(service_name)
    if operation_name not in service.operation_names:
        raise UnknownToRuntime(report=f"{service_name}.{operation_name} is not an operation of the runtime's SDK")
    report = ParamValidator().validate(params, service.operation_model(operation_name).input_shape)
    if report.has_errors():
        raise UnknownToRuntime(
            report=f"{service_name}.{operation_name}, refused by the runtime's SDK:\n" + report.generate_report()
        )


@pytest.fixture(autouse=True)
def _calls_the_runtime_sdk_accepts(monkeypatch):
    make_api_call = BaseClient._make_api_call

    def checked(self, operation_name, api_params):
        if shipped_caller() is not None:
            check_call(self.meta.service_model.service_name, operation_name, api_params)
        return make_api_call(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", checked)

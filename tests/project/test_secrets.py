"""myblog.secrets: SSM parameters become environment variables at start-up."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from moto import mock_aws

from myblog import aws
from myblog.secrets import LOADED_FLAG, load_secrets

PATH = "/myblog/prod/"


@pytest.fixture
def ssm():
    with mock_aws():
        aws.reset_clients()
        yield aws.client("ssm", region_name="us-east-1")
    aws.reset_clients()


def put(ssm, name, value, path=PATH):
    ssm.put_parameter(Name=path + name, Value=value, Type="SecureString")


def stage_environ(**extra):
    return {"MYBLOG_SSM_PARAMETERS_PATH": PATH, "AWS_REGION": "us-east-1", **extra}


def test_parameters_under_the_path_become_variables(ssm):
    put(ssm, "DJANGO_SECRET_KEY", "s" * 50)
    put(ssm, "DATABASE_URL", "postgres://editor:pw@db.internal:5432/myblog")
    put(ssm, "OTHER", "not mine", path="/myblog/dev/")
    environ = stage_environ()

    loaded = load_secrets(environ)

    assert loaded == {"DJANGO_SECRET_KEY": "s" * 50, "DATABASE_URL": "postgres://editor:pw@db.internal:5432/myblog"}
    assert environ["DJANGO_SECRET_KEY"] == "s" * 50
    assert environ["DATABASE_URL"].startswith("postgres://")
    assert "OTHER" not in environ
    assert environ[LOADED_FLAG] == "1"


def test_secure_strings_are_decrypted_and_nested_paths_ignored(ssm):
    put(ssm, "DJANGO_SECRET_KEY", "k" * 50)
    put(ssm, "DATABASE_URL", "postgres://x")
    ssm.put_parameter(Name=PATH + "nested/DJANGO_SECRET_KEY", Value="wrong", Type="SecureString")
    environ = stage_environ()

    load_secrets(environ)

    assert environ["DJANGO_SECRET_KEY"] == "k" * 50


def test_a_variable_already_set_wins(ssm):
    put(ssm, "DJANGO_SECRET_KEY", "from-ssm" * 8)
    put(ssm, "DATABASE_URL", "postgres://from-ssm")
    environ = stage_environ(DATABASE_URL="sqlite:///override.sqlite3")

    loaded = load_secrets(environ)

    assert loaded["DATABASE_URL"] == "postgres://from-ssm"
    assert environ["DATABASE_URL"] == "sqlite:///override.sqlite3"


def test_every_page_is_read(ssm):
    # GetParametersByPath returns at most 10 parameters a page.
    for index in range(23):
        put(ssm, f"EXTRA_{index:02d}", str(index))
    put(ssm, "DJANGO_SECRET_KEY", "k" * 50)
    put(ssm, "DATABASE_URL", "postgres://x")
    environ = stage_environ()

    loaded = load_secrets(environ)

    assert len(loaded) == 25
    assert environ["EXTRA_22"] == "22"


def test_nothing_happens_without_a_path(ssm):
    environ = {"AWS_REGION": "us-east-1"}

    assert load_secrets(environ) == {}
    assert environ == {"AWS_REGION": "us-east-1"}


def test_loaded_once_per_process(ssm):
    put(ssm, "DJANGO_SECRET_KEY", "k" * 50)
    put(ssm, "DATABASE_URL", "postgres://x")
    environ = stage_environ()
    load_secrets(environ)
    ssm.put_parameter(Name=PATH + "DJANGO_SECRET_KEY", Value="rotated" * 8, Type="SecureString", Overwrite=True)

    assert load_secrets(environ) == {}
    assert environ["DJANGO_SECRET_KEY"] == "k" * 50


def test_a_stage_without_its_secrets_refuses_to_start(ssm):
    put(ssm, "DATABASE_URL", "postgres://x")
    environ = stage_environ()

    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY missing"):
        load_secrets(environ)
    assert LOADED_FLAG not in environ


def test_a_malformed_path_is_refused(ssm):
    with pytest.raises(ImproperlyConfigured, match="must start and end with '/'"):
        load_secrets(stage_environ(MYBLOG_SSM_PARAMETERS_PATH="/myblog/prod"))

"""The one place that builds connections to AWS.

Every boto3 client and every PynamoDB connection in MyBlog comes from here,
so region, retries and DAX routing are decided once. Endpoints are never
chosen in code: boto3 and PynamoDB read the standard `AWS_ENDPOINT_URL_*`
variables, which the local stack sets and AWS leaves unset.
"""

import json
import os
import threading

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from django.conf import settings
from pynamodb.connection import Connection
from pynamodb.models import Model

from myblog import dynamodb_reads

_local = threading.local()
_dax_lock = threading.Lock()
_dax_clients = {}

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10)
# botocore presigns S3 requests with Signature Version 2 in the older
# regions unless told otherwise, and buckets created since June 2020 refuse
# SigV2: the admin's presigned uploads and views of originals need SigV4.
SERVICE_CONFIGS = {"s3": CLIENT_CONFIG.merge(Config(signature_version="s3v4"))}

# Data-plane operations DAX serves. Everything else (DescribeTable,
# CreateTable, ...) goes to DynamoDB itself.
DAX_OPERATIONS = {
    "GetItem": "get_item",
    "BatchGetItem": "batch_get_item",
    "Query": "query",
    "Scan": "scan",
    "TransactGetItems": "transact_get_items",
    "PutItem": "put_item",
    "UpdateItem": "update_item",
    "DeleteItem": "delete_item",
    "BatchWriteItem": "batch_write_item",
    "TransactWriteItems": "transact_write_items",
}


class JSONFileLoader(botocore.loaders.JSONFileLoader):
    """botocore's loader of its data files, reading JSON objects as plain dicts.

    botocore reads every object of its models as an OrderedDict (through a
    Python hook, object by object), which makes a cold start's three files
    (the endpoints, DynamoDB's and SSM's service models, 2.8 MB of JSON)
    take two to three times as long to parse as plain dicts, which keep
    their order too. The files and their content are botocore's own.
    """

    def _load_file(self, full_path, open_method):
        # The method of botocore's JSONFileLoader (the same from 1.30, the
        # Lambda runtime's, to the development version) minus the hook.
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as handle:
            return json.loads(handle.read().decode("utf-8"))


class Loader(botocore.loaders.Loader):
    """botocore's data loader, which finds one service's data without listing every service's.

    Before loading a service's model, botocore checks its name against the
    list of all the services it has data for, built by listing each of its
    400-odd service folders (900 directory listings and 2,800 file checks
    for each kind of model, and a client loads two kinds): 20 ms of a cold
    start, to find two services. This asks the same of the one service's
    folders; only an unknown name falls back to botocore's listing, whose
    error names every known service.
    """

    FILE_LOADER_CLASS = JSONFileLoader

    @botocore.loaders.instance_cache
    def load_service_model(self, service_name, type_name, api_version=None):
        # botocore's method (the same from 1.30 to the development version), minus the listing.
        if not self._has_data(service_name, type_name):
            return super().load_service_model(service_name, type_name, api_version)
        if api_version is None:
            api_version = self.determine_latest_version(service_name, type_name)
        model = self.load_data(os.path.join(service_name, api_version, type_name))
        self._extras_processor.process(model, self._find_extras(service_name, type_name, api_version))
        return model

    def _has_data(self, service_name, type_name):
        """Whether `list_available_services(type_name)` would name `service_name`."""
        for location in self._potential_locations():
            folder = os.path.join(location, service_name)
            if os.path.isdir(folder):
                for api_version in os.listdir(folder):
                    if self.file_loader.exists(os.path.join(folder, api_version, type_name)):
                        return True
        return False


def data_loader(search_path_string=None):
    """botocore's `create_loader` (AWS_DATA_PATH's folders searched first), making MyBlog's `Loader`."""
    if search_path_string is None:
        return Loader()
    paths = [os.path.expanduser(os.path.expandvars(path)) for path in search_path_string.split(os.pathsep)]
    return Loader(extra_search_paths=paths)


def botocore_session():
    """One botocore session per thread, shared by boto3 clients and PynamoDB.

    A session caches the service models and endpoint data it loads from
    JSON (hundreds of milliseconds): a fresh session per client or per
    PynamoDB model would pay that again on every cold start. Its clients
    parse DynamoDB's reads in one pass (`myblog.dynamodb_reads`).
    """
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = botocore.session.get_session()
        session.register_component("data_loader", data_loader(session.get_config_variable("data_path")))
        session.register_component("response_parser_factory", dynamodb_reads.ResponseParserFactory())
    return session


def boto3_session():
    """The boto3 session over `botocore_session()` (one per thread: boto3
    registers its handlers on the botocore session when it wraps it)."""
    session = getattr(_local, "boto3_session", None)
    if session is None:
        session = _local.boto3_session = boto3.session.Session(botocore_session=botocore_session())
    return session


def _thread_clients():
    """This thread's cache of built clients (boto3's and PynamoDB's)."""
    cache = getattr(_local, "clients", None)
    if cache is None:
        cache = _local.clients = {}
    return cache


def client(service_name, region_name=None):
    """A boto3 client for `service_name`, cached per thread.

    boto3 clients are thread-safe but their creation is not, and creating
    one costs ~0.1 s on a cold Lambda: cache them.
    """
    cache = _thread_clients()
    region = region_name or settings.AWS_REGION
    key = (service_name, region)
    if key not in cache:
        config = SERVICE_CONFIGS.get(service_name, CLIENT_CONFIG)
        cache[key] = boto3_session().client(service_name, region_name=region, config=config)
    return cache[key]


def reset_clients():
    """Forget cached clients and connections (tests swap the AWS backend)."""
    _local.clients = {}
    with _dax_lock:
        _dax_clients.clear()
    for model in DynamoModel.all_subclasses():
        model._connection = None


def _dax_client(endpoint, region):
    # amazon-dax-client connects in its constructor and is slow to import:
    # build it on first use only, and only when a cluster is configured.
    with _dax_lock:
        if endpoint not in _dax_clients:
            from amazondax import AmazonDaxClient

            _dax_clients[endpoint] = AmazonDaxClient(region_name=region, endpoints=[endpoint])
        return _dax_clients[endpoint]


class DaxRoutingClient:
    """Looks like a botocore client to PynamoDB; sends data-plane calls to DAX.

    PynamoDB calls `client._make_api_call(operation, kwargs)` for everything.
    Writes go through DAX too (write-through keeps DAX's item cache coherent
    in this region); control-plane calls go to DynamoDB.
    """

    def __init__(self, botocore_client, endpoint, region):
        self._botocore = botocore_client
        self._endpoint = endpoint
        self._region = region
        self.meta = botocore_client.meta
        self._request_signer = botocore_client._request_signer

    def _make_api_call(self, operation_name, operation_kwargs):
        method = DAX_OPERATIONS.get(operation_name)
        if method is None:
            return self._botocore._make_api_call(operation_name, operation_kwargs)
        dax = _dax_client(self._endpoint, self._region)
        return getattr(dax, method)(**operation_kwargs)


class DaxConnection(Connection):
    """MyBlog's PynamoDB connection: a shared botocore session, and DAX.

    Data-plane calls go to DAX when `MYBLOG_DAX_ENDPOINT` is set, to
    DynamoDB otherwise.
    """

    @property
    def session(self):
        return botocore_session()

    @property
    def client(self):
        if self._client is None:
            # One botocore DynamoDB client per thread, region and endpoint,
            # shared by every model's connection: each costs 50-100 ms to
            # build, and a page reading two tables would build two on a
            # cold start (and every transaction one more).
            cache = _thread_clients()
            key = ("pynamodb", self.region, self.host)
            if key not in cache:
                cache[key] = super().client
            self._client = cache[key]
        botocore_client = super().client
        endpoint = settings.MYBLOG_DAX_ENDPOINT
        if not endpoint:
            return botocore_client
        return DaxRoutingClient(botocore_client, endpoint, self.region)


class DynamoModel(Model):
    """Base class for MyBlog's PynamoDB models.

    Table names and region come from settings (see `table_name`); every
    model shares one botocore session, and when `MYBLOG_DAX_ENDPOINT` is set
    reads and writes go through DAX.
    """

    @classmethod
    def _get_connection(cls):
        connection = super()._get_connection()
        if not isinstance(connection.connection, DaxConnection):
            # PynamoDB builds a plain Connection inside TableConnection and
            # offers no hook to choose its class.
            connection.connection.__class__ = DaxConnection
        return connection

    @classmethod
    def all_subclasses(cls):
        found = []
        for sub in cls.__subclasses__():
            found.append(sub)
            found.extend(sub.all_subclasses())
        return found


def connection(region=None):
    """A PynamoDB connection for transactions, routed like the models' own."""
    return DaxConnection(region=region or settings.AWS_REGION)


def is_conditional_check_failure(error):
    """Whether a PynamoDB write error means the write's condition was false (not that AWS failed).

    For single writes (put, update, delete); callers turn it into their own
    answer ("already exists", "already claimed") and re-raise anything else.
    Transactions say it per item: see `myblog.transactions`.
    """
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def table_name(name):
    """The configured DynamoDB table name for one of MyBlog's tables."""
    return settings.MYBLOG_TABLES[name]


def all_models():
    """Every concrete DynamoModel of the installed apps (imports their models)."""
    from django.apps import apps

    for app in apps.get_app_configs():
        if app.models_module is None:
            try:
                __import__(f"{app.name}.models")
            except ModuleNotFoundError:
                continue
    return [m for m in DynamoModel.all_subclasses() if getattr(getattr(m, "Meta", None), "table_name", None)]

"""Importing subscribers from CSV: the file's checks, the queued job, its rows, the admin page and the command.

The subscriber-imports queue on moto's SQS, its messages fed to
`subscribers.handlers.import_subscribers` as Lambda's SQS mapping feeds
them (tests/sqs_fixtures.py); the welcome emails through the stream
handler and moto's SES.
"""

import io
import json
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from myblog import jobs
from subscribers import handlers, imports, services, tokens
from subscribers.models import CONFIRMED, PENDING, UNSUBSCRIBED, Subscriber
from tests.sqs_fixtures import body_event
from tests.subscribers.test_handlers_subscribers import sent_messages, stream_event

QUEUE = imports.QUEUE
CHANGELIST = "/admin/subscribers/subscriber/"
IMPORT_URL = CHANGELIST + "import/"
IMPORTERS = ("subscribers.view_subscriber", "subscribers.add_subscriber")


@pytest.fixture(autouse=True)
def no_continuation_delay(monkeypatch):
    monkeypatch.setattr(imports, "CONTINUATION_DELAY", 0)


@pytest.fixture
def ses(aws, settings):
    settings.MYBLOG_SES_SENDER = "MyBlog <hello@myblog.example>"
    aws.client("sesv2").create_email_identity(EmailIdentity="myblog.example")
    return aws


@pytest.fixture
def importer(client, make_editor, aws, job_queues):
    client.force_login(make_editor("office", *IMPORTERS))
    return client


def csv_bytes(*lines, encoding="utf-8"):
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def run(pump, **kwargs):
    return pump.drain(QUEUE, handlers.import_subscribers, **kwargs)


# -- reading the file ------------------------------------------------------------------------


def test_a_header_names_the_columns_in_any_order_and_spelling():
    parsed = imports.read_csv(
        csv_bytes("Full Name;E-mail Address;Signed up", "Ann;ann@example.com;2021-05-04", "Bob;BOB@Example.org;")
    )
    assert parsed.has_header and parsed.columns == {"email": 1, "name": 0, "created": 2}
    assert [(r.number, r.email, r.name, r.created) for r in parsed.rows] == [
        (2, "ann@example.com", "Ann", "2021-05-04"),
        (3, "BOB@Example.org", "Bob", ""),
    ]


def test_without_a_header_the_first_column_holding_an_address_is_used():
    data = "\ufeffReader,reader@example.com\n\n,second@example.com\n".encode()
    parsed = imports.read_csv(data)
    assert not parsed.has_header
    assert [(r.number, r.email) for r in parsed.rows] == [(1, "reader@example.com"), (3, "second@example.com")]


def test_a_windows_spreadsheets_csv_is_read():
    parsed = imports.read_csv(csv_bytes("email,name", "zoe@example.com,Zoë", encoding="cp1252"))
    assert parsed.rows[0].name == "Zoë"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "The file is empty", id="empty"),
        pytest.param(b"\n\n , \n", "The file is empty", id="blank"),
        pytest.param(csv_bytes("email,name"), "a header but no addresses", id="header-only"),
        pytest.param(csv_bytes("name,city", "Ann,Paris"), "No email column", id="no-email-column"),
        pytest.param(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "not a CSV file", id="zip"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file", id="png"),
        pytest.param(b'email\n"' + b"x" * 200_000 + b'"\n', "not a CSV file this import can read", id="huge-cell"),
        # UTF-8's byte order mark, then a byte UTF-8 cannot have: damage, not Windows-1252.
        pytest.param(
            "\ufeffemail,name\nann@example.com,Ann\n".encode() + b"zoe@example.com,Zo\xeb\n",
            "marked as UTF-8 but line 3 is not valid UTF-8",
            id="bom-then-invalid-utf8",
        ),
    ],
)
def test_files_that_are_not_a_usable_csv_are_refused(data, message):
    with pytest.raises(imports.InvalidFile, match=message):
        imports.read_csv(data)


def test_a_file_over_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_BYTES", 20)
    with pytest.raises(imports.InvalidFile, match="the largest import is"):
        imports.read_csv(csv_bytes("email", "someone@example.com"))


def test_created_dates_are_iso_and_never_in_the_future():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert imports.parse_created("2021-05-04", now) == datetime(2021, 5, 4, tzinfo=UTC)
    assert imports.parse_created("2021-05-04T10:30:00+02:00", now) == datetime(2021, 5, 4, 8, 30, tzinfo=UTC)
    assert imports.parse_created("2030-01-01", now) == now
    assert imports.parse_created("04/05/2021", now) is None and imports.parse_created("", now) is None


# -- the job ---------------------------------------------------------------------------------


def test_imported_addresses_are_pending_and_get_the_confirmation_email(ses, job_queues):
    data = csv_bytes("email,name,created", "Ann@Example.com,Ann,2021-05-04", "bob@example.org,,")
    job, parsed = imports.start_import(data, filename="list.csv", created_by="ed")
    stored = aws_object(ses, imports.file_key(job.job_id))
    assert stored["Body"].read() == data and stored["ContentType"] == "text/csv"
    assert imports.file_key(job.job_id).startswith("imports/")
    assert job_queues.bodies(QUEUE) == [{"job": job.job_id, "offset": 0}]
    run(job_queues)

    job = jobs.get(job.job_id)
    assert job.state == jobs.DONE
    assert (job.total, job.done, job.skipped, job.failed) == (2, 2, 0, 0)
    # Once every row is in the table, the stored copy of the addresses is deleted.
    with pytest.raises(ses.client("s3").exceptions.NoSuchKey):
        aws_object(ses, imports.file_key(job.job_id))
    ann = Subscriber.get("ann@example.com")
    assert ann.status == PENDING and ann.name == "Ann" and ann.confirmed_at is None and ann.consent_note is None
    assert ann.created_at == datetime(2021, 5, 4, tzinfo=UTC)
    assert ann.import_job == job.job_id and ann.import_row == 2 and ann.imported_at
    # The stream's INSERTs: each pending address gets its welcome email, with its confirm link.
    result = handlers.send_welcome_emails(stream_event("ann@example.com", "bob@example.org"), None)
    assert result == {"batchItemFailures": []}
    messages = {m["To"]: m for m in sent_messages()}
    assert sorted(messages) == ["ann@example.com", "bob@example.org"]
    # The email says how the address got onto the list: the editors' import, not the subscribe form.
    for address, greeting in (("ann@example.com", "Hello Ann,"), ("bob@example.org", "Hello,")):
        text = messages[address].get_body(("plain",)).get_content()
        html = messages[address].get_body(("html",)).get_content()
        assert text.startswith(greeting)
        for body in (text, html):
            assert "subscribe form" not in body and "Thanks for subscribing" not in body
            assert "a list of subscribers the editors imported" in body
            assert tokens.confirm_url(address) in body


def aws_object(aws, key):
    return aws.client("s3").get_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key)


def test_confirmed_addresses_need_a_consent_note_keep_it_and_get_no_email(ses, job_queues):
    data = csv_bytes("email", "cleo@example.com")
    with pytest.raises(ValueError, match="consent note"):
        imports.start_import(data, confirmed=True, consent_note="  ")
    job, _ = imports.start_import(data, confirmed=True, consent_note="Sign-up form on the old site, 2019-2026")
    run(job_queues)
    cleo = Subscriber.get("cleo@example.com")
    assert cleo.status == CONFIRMED and cleo.confirmed_at == cleo.imported_at
    assert cleo.consent_note == "Sign-up form on the old site, 2019-2026"
    assert handlers.send_welcome_emails(stream_event("cleo@example.com"), None) == {"batchItemFailures": []}
    assert sent_messages() == []
    assert jobs.get(job.job_id).done == 1


def test_known_addresses_and_repeats_are_skipped_and_left_as_they_are(aws, job_queues):
    services.subscribe("gone@example.com")
    services.unsubscribe("gone@example.com")
    services.subscribe("known@example.com")
    services.confirm("known@example.com")
    data = csv_bytes("email", "GONE@example.com", "known@example.com", "new@example.com", "New@Example.com")
    job, _ = imports.start_import(data, confirmed=True, consent_note="Old list")
    run(job_queues)
    job = jobs.get(job.job_id)
    assert (job.total, job.done, job.skipped, job.failed, job.state) == (4, 1, 3, 0, jobs.DONE)
    gone = Subscriber.get("gone@example.com")
    assert gone.status == UNSUBSCRIBED and gone.import_job is None and gone.consent_note is None
    assert Subscriber.get("known@example.com").import_job is None
    assert Subscriber.get("new@example.com").import_row == 4


def test_invalid_addresses_are_counted_failed_with_their_row_numbers(aws, job_queues):
    data = csv_bytes("name,email", "A,a@example.com", "B,not an address", "C,", "D,d@example.com", "E,x@-bad.com")
    job, _ = imports.start_import(data)
    run(job_queues)
    job = jobs.get(job.job_id)
    assert (job.total, job.done, job.failed, job.state) == (5, 2, 3, jobs.DONE)
    assert job.errors == [
        "row 3: not a valid email address: 'not an address'",
        "row 4: not a valid email address: '(empty)'",
        "row 6: not a valid email address: 'x@-bad.com'",
    ]


def test_a_long_file_continues_across_messages(aws, job_queues, monkeypatch):
    monkeypatch.setattr(imports, "ROWS_PER_MESSAGE", 2)
    addresses = [f"reader{index}@example.com" for index in range(5)]
    job, _ = imports.start_import(csv_bytes("email", *addresses))
    assert run(job_queues, batch_size=1) == 3
    offsets = [json.loads(record["body"])["offset"] for event in job_queues.events for record in event["Records"]]
    assert offsets == [0, 2, 4]
    job = jobs.get(job.job_id)
    assert (job.page, job.total, job.done, job.state) == (5, 5, 5, jobs.DONE)
    assert {Subscriber.get(a).import_row for a in addresses} == {2, 3, 4, 5, 6}


def test_the_time_budget_ends_a_message_early(aws, job_queues):
    class Context:
        def get_remaining_time_in_millis(self):
            return 1_000  # below the reserve: one row, then the continuation

    job, _ = imports.start_import(csv_bytes("email", "a@example.com", "b@example.com", "c@example.com"))
    for _ in range(3):
        job_queues.deliver(QUEUE, handlers.import_subscribers, context=Context())
    job = jobs.get(job.job_id)
    assert (job.page, job.done, job.state) == (3, 3, jobs.DONE)


def test_redelivered_messages_add_and_count_nothing_twice(aws, job_queues, monkeypatch):
    monkeypatch.setattr(imports, "ROWS_PER_MESSAGE", 2)
    services.subscribe("known@example.com")
    data = csv_bytes("email", "a@example.com", "known@example.com", "b@example.com", "a@example.com", "bad")
    job, _ = imports.start_import(data)
    for _ in range(10):
        event, _ = job_queues.deliver(QUEUE, handlers.import_subscribers, keep=True)
        if event is None:
            break
        job_queues.deliver(QUEUE, handlers.import_subscribers)
    run(job_queues)
    job = jobs.get(job.job_id)
    assert (job.total, job.done, job.skipped, job.failed, job.state) == (5, 2, 2, 1, jobs.DONE)
    assert job.errors == ["row 6: not a valid email address: 'bad'"]


def test_a_step_that_died_before_it_was_recorded_is_done_again_with_the_same_counts(aws, job_queues, monkeypatch):
    job, _ = imports.start_import(csv_bytes("email", "a@example.com", "a@example.com", "b@example.com"))
    real_advance = jobs.advance
    deaths = []

    def dying(*args, **kwargs):
        if not deaths:
            deaths.append(1)
            raise RuntimeError("the function timed out")
        return real_advance(*args, **kwargs)

    monkeypatch.setattr(jobs, "advance", dying)
    _, response = job_queues.deliver(QUEUE, handlers.import_subscribers)
    assert len(response["batchItemFailures"]) == 1  # the rows were added, the step not recorded
    run(job_queues)
    job = jobs.get(job.job_id)
    assert (job.total, job.done, job.skipped, job.state) == (3, 2, 1, jobs.DONE)


def test_messages_ahead_stale_or_malformed(aws, job_queues, caplog):
    job, _ = imports.start_import(csv_bytes("email", "a@example.com"))
    ahead = body_event(QUEUE, {"job": job.job_id, "offset": 7})
    assert handlers.import_subscribers(ahead, None) == {
        "batchItemFailures": [{"itemIdentifier": ahead["Records"][0]["messageId"]}]
    }
    run(job_queues)
    dropped = body_event(
        QUEUE,
        {"job": job.job_id, "offset": 0},  # already done
        {"job": job.job_id, "offset": "0"},
        {"job": "missing", "offset": 0},
        "[1, 2]",
    )
    assert handlers.import_subscribers(dropped, None) == {"batchItemFailures": []}
    assert jobs.get(job.job_id).done == 1


def test_an_import_whose_file_is_gone_ends_failed(aws, job_queues):
    job, _ = imports.start_import(csv_bytes("email", "a@example.com"))
    aws.client("s3").delete_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=imports.file_key(job.job_id))
    run(job_queues)
    job = jobs.get(job.job_id)
    assert job.state == jobs.FAILED and job.errors == ["the uploaded file is no longer in the bucket"]


# -- the admin page ------------------------------------------------------------------------


def upload(name, data, content_type="text/csv"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_the_import_page_stores_the_file_starts_the_job_and_shows_its_progress(importer, job_queues, aws):
    page = importer.get(CHANGELIST).content.decode()
    assert f'href="{IMPORT_URL}"' in page and "Import subscribers" in page
    form = importer.get(IMPORT_URL).content.decode()
    assert 'enctype="multipart/form-data"' in form and "csrfmiddlewaretoken" in form

    data = csv_bytes("email,name", "ann@example.com,Ann", "broken", "ann@example.com,Ann again")
    response = importer.post(IMPORT_URL, {"file": upload("list.csv", data)})
    assert response.status_code == 302
    (job,) = jobs.recent(imports.KIND)
    assert response["Location"] == f"{IMPORT_URL}{job.job_id}/"
    assert job.created_by == "office" and job.options["filename"] == "list.csv" and not job.options["confirmed"]
    assert aws_object(aws, imports.file_key(job.job_id))["Body"].read() == data
    assert not list(Subscriber.scan())  # nothing added inside the request

    running = importer.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in running and "The import of 3 rows has started" in running
    run(job_queues)
    done = importer.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in done
    assert "<strong>1</strong> done, <strong>1</strong> skipped, <strong>1</strong> failed" in done
    assert "row 3: not a valid email address: &#x27;broken&#x27;" in done
    assert job.job_id in importer.get(IMPORT_URL).content.decode()  # the latest imports


def test_a_confirmed_import_from_the_page_needs_and_keeps_the_consent_note(importer, job_queues):
    data = csv_bytes("email", "cleo@example.com")
    response = importer.post(IMPORT_URL, {"file": upload("l.csv", data), "confirmed": "on", "consent_note": ""})
    assert response.status_code == 200
    assert "confirmed addresses need a consent note" in response.content.decode()
    assert jobs.recent(imports.KIND) == []
    response = importer.post(
        IMPORT_URL, {"file": upload("l.csv", data), "confirmed": "on", "consent_note": "Old site's form"}
    )
    assert response.status_code == 302
    run(job_queues)
    assert Subscriber.get("cleo@example.com").consent_note == "Old site's form"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param("list.xlsx", b"PK\x03\x04anything", "spreadsheet file, not a CSV", id="xlsx"),
        pytest.param("photo.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "This is not a CSV file", id="binary"),
        pytest.param("names.csv", csv_bytes("name", "Ann"), "No email column", id="no-email-column"),
        pytest.param("empty.csv", b"", "The submitted file is empty", id="empty"),
    ],
)
def test_the_form_says_what_is_wrong_with_the_file(importer, name, data, message):
    response = importer.post(IMPORT_URL, {"file": upload(name, data)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert jobs.recent(imports.KIND) == []


def test_the_form_refuses_a_file_over_the_limit(importer, monkeypatch):
    monkeypatch.setattr(imports, "MAX_BYTES", 100)
    data = csv_bytes("email", *[f"reader{index}@example.com" for index in range(20)])
    response = importer.post(IMPORT_URL, {"file": upload("big.csv", data)})
    assert "the largest import is" in response.content.decode() and jobs.recent(imports.KIND) == []
    assert importer.post(IMPORT_URL, {}).status_code == 200  # no file: "This field is required."


def test_the_import_form_needs_its_csrf_token(make_editor, aws, job_queues):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_editor("office", *IMPORTERS))
    data = csv_bytes("email", "a@example.com")
    assert client.post(IMPORT_URL, {"file": upload("l.csv", data)}).status_code == 403
    client.get(IMPORT_URL)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(IMPORT_URL, {"file": upload("l.csv", data), "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_importing_needs_the_add_subscriber_permission(client, make_editor, aws, job_queues):
    client.force_login(make_editor("viewer", "subscribers.view_subscriber", "subscribers.change_subscriber"))
    assert "Import subscribers" not in client.get(CHANGELIST).content.decode()
    assert client.get(IMPORT_URL).status_code == 403
    data = csv_bytes("email", "a@example.com")
    assert client.post(IMPORT_URL, {"file": upload("l.csv", data)}).status_code == 403
    job, _ = imports.start_import(data)
    assert client.get(f"{IMPORT_URL}{job.job_id}/").status_code == 403
    assert [j.job_id for j in jobs.recent(imports.KIND)] == [job.job_id]


def test_an_unknown_import_is_not_found(importer):
    assert importer.get(f"{IMPORT_URL}no-such-job/").status_code == 404


def test_an_imported_subscribers_page_shows_where_they_came_from(importer, job_queues):
    job, _ = imports.start_import(csv_bytes("email,name", "dan@example.com,Dan"), confirmed=True, consent_note="Old")
    run(job_queues)
    page = importer.get(CHANGELIST + "dan@example.com/change/").content.decode()
    assert "Dan" in page and "Old" in page and f"import {job.job_id}, row 2" in page


# -- the command -----------------------------------------------------------------------------


def test_the_command_imports_a_file_through_the_same_job(aws, job_queues, tmp_path, monkeypatch):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes("email", "a@example.com", "b@example.com"))
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: run(job_queues))
    out = io.StringIO()
    call_command("import-subscribers", str(path), "--confirmed", "--consent-note", "Old list", "--wait", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Started import ") and lines[0].endswith(" of 2 rows from list.csv.")
    assert lines[-1].endswith("done, 2 of 2 rows (2 added, 0 skipped, 0 failed)")
    assert Subscriber.get("a@example.com").consent_note == "Old list"
    with pytest.raises(CommandError, match="needs --consent-note"):
        call_command("import-subscribers", str(path), "--confirmed", stdout=io.StringIO())
    path.write_bytes(b"name\nAnn\n")
    with pytest.raises(CommandError, match="No email column"):
        call_command("import-subscribers", str(path), stdout=io.StringIO())


def test_an_import_that_cannot_be_stored_says_so_on_the_form(importer, aws, caplog):
    aws.client("s3").delete_bucket(Bucket=settings.MYBLOG_MEDIA_BUCKET)
    response = importer.post(IMPORT_URL, {"file": upload("l.csv", csv_bytes("email", "a@example.com"))})
    assert response.status_code == 200
    assert "The import could not be started" in response.content.decode()
    (job,) = jobs.recent(imports.KIND)
    assert job.state == jobs.FAILED and "could not be started" in job.errors[0]

"""The local mailbox: the emails sent through SES to the local moto server.

A tiny WSGI application (standard library only) that lists what moto's SES
accepted, newest first, and shows each message: its headers (including the
List-Unsubscribe pair), its text part, its HTML part (in a sandboxed
frame) and the links it contains, so a developer can follow a confirm link.

moto keeps sent messages in memory and exposes them through its
`/moto-api/data.json` (the `ses` models `RawMessage`, for raw MIME sends,
and `Message`, for simple ones; SES v2's SendEmail stores its Raw and
Simple content as those). Welcome emails and newsletter sends are raw MIME. The moto endpoint is taken from
`AWS_ENDPOINT_URL_SESV2`, `AWS_ENDPOINT_URL_SES` or `AWS_ENDPOINT_URL`, the
variables boto3 itself reads, or given to `Mailbox(endpoint)`.

Mount it anywhere (`application` is the WSGI callable): links are relative.
"""

import email
import html
import json
import os
import re
import urllib.request
from email import policy
from email.utils import parsedate_to_datetime

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL")
LINK_RE = re.compile(r"https?://[^\s<>\"']+")

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;
vertical-align:top}th{width:12rem}pre{white-space:pre-wrap;background:#f6f6f4;padding:1rem}
iframe{width:100%;height:36rem;border:1px solid #ddd}.muted{color:#777}
"""


def moto_endpoint():
    for name in ENDPOINT_VARIABLES:
        if os.environ.get(name):
            return os.environ[name].rstrip("/")
    return None


def sent_messages(endpoint):
    """Every message moto's SES accepted, oldest first, as dicts with a parsed `message`."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as response:
        data = json.load(response)
    ses = data.get("ses", {})
    found = []
    for item in ses.get("RawMessage", []):
        # moto keeps the raw MIME decoded from UTF-8; parse it as the bytes sent, so an
        # 8bit part (a newsletter with accents or emoji) decodes with its own charset.
        raw = item.get("raw_data", "").encode("utf-8", "surrogateescape")
        parsed = email.message_from_bytes(raw, policy=policy.default)
        found.append({"id": item.get("id"), "message": parsed})
    for item in ses.get("Message", []):
        parsed = email.message.EmailMessage(policy=policy.default)
        parsed["From"] = item.get("source") or ""
        parsed["To"] = ", ".join((item.get("destinations") or {}).get("ToAddresses", []))
        parsed["Subject"] = item.get("subject") or ""
        parsed.set_content(item.get("body") or "")
        found.append({"id": item.get("id"), "message": parsed})
    return found


def _date(message):
    try:
        return parsedate_to_datetime(message["Date"])
    except (TypeError, ValueError, IndexError):
        return None


def _subject(message):
    return html.escape(str(message["Subject"] or "(no subject)"))


def _part(message, subtype):
    part = message.get_body((subtype,)) if message.is_multipart() or message.get_content_subtype() == subtype else None
    return part.get_content() if part is not None else None


class Mailbox:
    def __init__(self, endpoint=None):
        self.endpoint = endpoint

    def __call__(self, environ, start_response):
        endpoint = self.endpoint or moto_endpoint()
        path = environ.get("PATH_INFO", "") or "/"
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return self._respond(start_response, "405 Method Not Allowed", "<p>Read only.</p>")
        if not endpoint:
            return self._respond(
                start_response,
                "503 Service Unavailable",
                "<p>No SES endpoint: set AWS_ENDPOINT_URL to the moto server.</p>",
            )
        try:
            messages = sent_messages(endpoint)
        except OSError as error:
            body = f"<p>Cannot read the emails from {html.escape(endpoint)}: {html.escape(str(error))}</p>"
            return self._respond(start_response, "502 Bad Gateway", body)
        parts = [p for p in path.split("/") if p]
        if not parts:
            return self._respond(start_response, "200 OK", self._index(messages))
        found = next((m for m in messages if m["id"] == parts[0]), None)
        if found is None:
            return self._respond(start_response, "404 Not Found", "<p>No such message.</p>")
        if parts[1:] == ["raw"]:
            raw = found["message"].as_string().encode()
            start_response(
                "200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(raw)))]
            )
            return [raw]
        return self._respond(start_response, "200 OK", self._detail(found, depth=len(parts)))

    def _respond(self, start_response, status, body, title="Local mailbox"):
        page = (
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>"
        ).encode()
        start_response(
            status,
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(page))),
                ("Cache-Control", "no-store"),
                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'"),
            ],
        )
        return [page]

    def _index(self, messages):
        rows = []
        ordered = sorted(enumerate(messages), key=lambda pair: (_date(pair[1]["message"]) is not None, pair[0]))
        for _, item in reversed(ordered):
            message = item["message"]
            rows.append(
                "<tr>"
                f"<td>{html.escape(str(message['Date'] or ''))}</td>"
                f"<td>{html.escape(str(message['To'] or ''))}</td>"
                f"<td><a href='{html.escape(item['id'])}/'>{_subject(message)}</a></td>"
                "</tr>"
            )
        table = (
            "<table><tr><th>Date</th><th>To</th><th>Subject</th></tr>" + "".join(rows) + "</table>"
            if rows
            else "<p class='muted'>No email sent yet.</p>"
        )
        return f"<h1>Local mailbox</h1><p class='muted'>Emails sent through SES (moto), newest first.</p>{table}"

    def _detail(self, item, depth):
        message = item["message"]
        up = "../" * depth
        headers = "".join(
            f"<tr><th>{html.escape(name)}</th><td>{html.escape(str(value))}</td></tr>"
            for name, value in message.items()
        )
        text = _part(message, "plain")
        markup = _part(message, "html")
        links = sorted(set(LINK_RE.findall(" ".join(filter(None, [text, markup, str(message["List-Unsubscribe"])])))))
        sections = [
            f"<p><a href='{up}'>All emails</a> · <a href='raw'>Raw message</a></p>",
            f"<h1>{_subject(message)}</h1>",
            f"<table>{headers}</table>",
        ]
        if links:
            items = "".join(f"<li><a href='{html.escape(link)}'>{html.escape(link)}</a></li>" for link in links)
            sections.append(f"<h2>Links</h2><ul>{items}</ul>")
        if markup is not None:
            sections.append(
                f"<h2>HTML</h2><iframe sandbox title='HTML part' srcdoc=\"{html.escape(markup)}\"></iframe>"
            )
        if text is not None:
            sections.append(f"<h2>Text</h2><pre>{html.escape(text)}</pre>")
        return "".join(sections)


application = Mailbox()

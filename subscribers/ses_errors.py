"""What SES's refusals of a send mean, for every sender of the subscribers app.

A refused send is one of three things, and each sender (the welcome email,
the newsletter) must tell them apart to act rightly:

- throttling: the account is over its sending rate. Sending again later
  succeeds (`subscribers.emails.send` already backs off a few times);
- the recipient's address: SES will never take it, so retrying can only
  fail again. The address is marked bounced instead;
- the account or its configuration (sending paused, an unverified sender, a
  missing configuration set): nobody's address, so no address may be
  suppressed for it; every send fails until someone fixes it, and the work
  is kept (retried, then in a dead-letter queue) to replay once fixed.
"""

import re
from email.utils import parseaddr

from botocore.exceptions import ClientError
from django.conf import settings

from subscribers import services

# SESv2 answers TooManyRequestsException; SES v1 and the SMTP interface say
# Throttling ("Maximum sending rate exceeded").
THROTTLING_CODES = {"TooManyRequestsException", "Throttling", "ThrottlingException"}
# SendEmail errors (SESv2 names, and SES v1's where they differ) that mean
# the account or its configuration stops every send, whoever the recipient.
CONFIGURATION_ERRORS = {
    "AccountSuspendedException",
    "SendingPausedException",
    "AccountSendingPausedException",
    "MailFromDomainNotVerifiedException",
    "MailFromDomainNotVerified",
    "NotFoundException",  # e.g. the configuration set
    "ConfigurationSetDoesNotExist",
    "ConfigurationSetSendingPausedException",
    "LimitExceededException",
    "AccessDenied",
    "AccessDeniedException",
}
# Errors SES raises for bad input, the recipient's address among other things...
REJECTION_ERRORS = {"MessageRejected", "BadRequestException", "InvalidParameterValue"}
# ...and the reasons that name the address itself. Only these suppress it: a
# rejection for any other reason ("Email address is not verified" of a
# sender or, in the sandbox, of every recipient; content SES refuses) is
# ours to fix, and would otherwise suppress every new subscriber.
ADDRESS_REJECTION_RE = re.compile(
    r"illegal address|address blacklisted|local address contains|domain contains|domain (?:starts|ends) with"
    r"|missing final '@domain'|missing domain|non-ascii characters in the email address",
    re.IGNORECASE,
)


def error_code(error):
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


def error_message(error):
    return error.response.get("Error", {}).get("Message", "") if isinstance(error, ClientError) else ""


def is_throttling(error):
    """Whether SES refused a send because the account is over its sending rate."""
    return error_code(error) in THROTTLING_CODES


def rejects_address(error):
    """Whether SES refused a send because of the recipient's address (so a retry cannot succeed).

    Only when our own sender address is well-formed: SES's messages do not
    always say which address they mean.
    """
    return (
        error_code(error) in REJECTION_ERRORS
        and ADDRESS_REJECTION_RE.search(error_message(error)) is not None
        and _sender_is_valid()
    )


def is_configuration_error(error):
    """Whether SES refused a send for a reason of the account or its configuration, whoever the recipient."""
    code = error_code(error)
    return code in CONFIGURATION_ERRORS or (code in REJECTION_ERRORS and not rejects_address(error))


def is_server_error(error):
    """Whether SES failed on its side (HTTP 5xx, after botocore's retries): the send may pass later."""
    if not isinstance(error, ClientError):
        return False
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return status >= 500


def rejection_reason(error):
    """The reason stored on an address SES refused for good."""
    return f"rejected by SES: {error_code(error)}: {error_message(error)}"


def _sender_is_valid():
    try:
        services.normalise_email(parseaddr(settings.MYBLOG_SES_SENDER)[1])
    except services.InvalidEmail:
        return False
    return True

"""The embedded default mail server: an SMTP sink that keeps each message as an `.eml` file.

Point the product's SMTP settings at it (the dev stack does) and every notice a return sends can
be opened in a mail client or read back by the tests and the demo.
"""

from mail_sink.mailbox import Mailbox, read_mailbox
from mail_sink.server import MailSink

__all__ = ["MailSink", "Mailbox", "read_mailbox"]

"""Notices: the emails of a return, composed from templates and sent over SMTP."""

from activities.notices.activities import NoticeActivities
from activities.notices.compose import NoticeComposer
from activities.notices.post_offices import CarrierPostOffices
from activities.notices.protocol import LabelDocuments, Notifier, PostOfficeFinder
from activities.notices.sent import SentNotices
from activities.notices.smtp import SmtpNotifier

__all__ = [
    "CarrierPostOffices",
    "LabelDocuments",
    "NoticeActivities",
    "NoticeComposer",
    "Notifier",
    "PostOfficeFinder",
    "SentNotices",
    "SmtpNotifier",
]

"""Notices: the emails of a return, composed from templates and sent over SMTP."""

from activities.notices.activities import NoticeActivities
from activities.notices.compose import NoticeComposer
from activities.notices.protocol import LabelDocuments, Notifier
from activities.notices.smtp import SmtpNotifier

__all__ = ["LabelDocuments", "NoticeActivities", "NoticeComposer", "Notifier", "SmtpNotifier"]

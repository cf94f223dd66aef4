"""A notice whose attempt is lost after the relay took it is not sent again on retry.

Real parts throughout: the dev server, a worker, the real `send_notice` and SMTP to the sink.
Only the loss is staged: the first attempt fails right after the send, as when a worker dies
between the relay's acceptance and the activity's completion.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.notices import NoticeActivities
from domain.notices import NoticeKind, NoticeReceipt, NoticeRequest
from mail_sink import MailSink, read_mailbox

from .stories import ReturnStory


@workflow.defn(sandboxed=False)
class SendOneNotice:
    @workflow.run
    async def run(self, request: NoticeRequest) -> NoticeReceipt:
        receipt: NoticeReceipt = await workflow.execute_activity(
            "send_notice",
            request,
            result_type=NoticeReceipt,
            start_to_close_timeout=timedelta(seconds=20),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )
        return receipt


async def test_a_notice_sent_before_its_attempt_was_lost_is_not_sent_again(
    time_skipping_env: WorkflowEnvironment,
    notice_activities: NoticeActivities,
    sink: MailSink,
    french_return: ReturnStory,
) -> None:
    attempts: list[int] = []

    @activity.defn(name="send_notice")
    async def send_then_lose_the_attempt(request: NoticeRequest) -> NoticeReceipt:
        attempts.append(activity.info().attempt)
        receipt = await notice_activities.send_notice(request)
        if activity.info().attempt == 1:
            raise RuntimeError("worker lost the attempt after the relay accepted the message")
        return receipt

    client = time_skipping_env.client
    task_queue = f"notices-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[SendOneNotice],
        activities=[send_then_lose_the_attempt],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        receipt = await client.execute_workflow(
            SendOneNotice.run,
            french_return.notice(NoticeKind.ACKNOWLEDGEMENT),
            id=f"notice-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )

    assert attempts == [1, 2]
    assert receipt.sent is False
    assert len(read_mailbox(sink.directory)) == 1

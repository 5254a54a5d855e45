"""A worker process killed mid-campaign, then restarted: every recipient gets one message, by Message-ID.

The worker runs as a real ``tidings deliver`` process sending through the SMTP transport to an aiosmtpd
server in this process. SIGTERM lets the batch in hand be recorded, so nothing is sent twice. SIGKILL
can land between the server's 250 and the record of the batch: those messages (at most one batch) are
handed over again after the lease, with the Message-ID their first copy had, so receivers collapse them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from domain.delivery_run import message_id, run_id
from interfaces.bootstrap import Container
from interfaces.config import Settings
from interfaces.delivery import queue
from tests.delivery.scenario import scheduled_campaign
from tests.transports.fake_smtp import ScriptedHandler, smtp_server

pytestmark = pytest.mark.slow

RECIPIENTS = 60
BATCH = 5


def _deliver(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ, "TIDINGS_DATABASE_URL": settings.database, "TIDINGS_DATA_DIR": str(settings.data_dir),
        "TIDINGS_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    command = [sys.executable, "-m", "interfaces.cli.main", "deliver", "--batch-size", str(BATCH), "--poll", "0.1",
               "--lease", "2", *args]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_a_killed_worker_resumes_without_skipping_anyone_or_sending_a_second_message_id(
    live: Container, settings: Settings, sig: signal.Signals
) -> None:
    handler = ScriptedHandler()
    with smtp_server(handler) as server:
        emails = [f"r{i:02d}@example.org" for i in range(RECIPIENTS)]
        smtp = {"host": "127.0.0.1", "port": server.port, "security": "none", "concurrency": 2}
        at = datetime.now(UTC) - timedelta(seconds=1)
        # The rate is what keeps the campaign running long enough to be stopped mid-way: a pass hands batches
        # over until the throttle binds, so after the first second's burst (a third of the recipients) the
        # rest takes seconds.
        scenario = scheduled_campaign(live, emails, at, transport="smtp", settings=smtp, rate=20.0)
        live.runner.stop()  # the worker process runs the projections from here on

        first = _deliver(settings)
        try:
            _wait_for(lambda: len(handler.received) >= RECIPIENTS // 3, 60)
        finally:
            first.send_signal(sig)
            first.wait(30)
        assert len(handler.received) < RECIPIENTS, "the first worker should have been stopped mid-campaign"

        time.sleep(2.5)  # the dead worker's lease runs out
        second = _deliver(settings, "--once")
        _out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err.decode()[-2000:]

    run = run_id(scenario.campaign_id, at)
    expected = {f"<{message_id(run, cid)}@example.com>": email for email, cid in scenario.contacts.items()}
    by_id: dict[str, list[str]] = defaultdict(list)
    for received in handler.received:
        by_id[received.message["Message-ID"]].append(received.recipients[0])
    assert set(by_id) == set(expected)  # nobody skipped, no message id invented
    assert all(set(to) == {expected[mid]} for mid, to in by_id.items())  # each id went to its own contact
    copies = sum(len(to) - 1 for to in by_id.values())
    if sig == signal.SIGTERM:
        assert copies == 0
    else:
        assert copies <= BATCH  # only the batch in hand at the kill can be handed over twice
    rows = queue.message_rows(live.db, run)
    assert {r["status"] for r in rows} == {"sent"} and len(rows) == RECIPIENTS

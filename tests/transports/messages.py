"""Messages to send through the SMTP, SendGrid and Mailgun transports under test."""

from __future__ import annotations

from uuid import UUID, uuid4

from interfaces.transports.base import OutgoingMessage

CAMPAIGN = UUID("00000000-0000-4000-8000-00000000c0de")
RUN = UUID("00000000-0000-4000-8000-0000000000a1")


def message(
    to: str = "ada@example.org",
    *,
    subject: str = "Hello",
    html: str | None = None,
    text: str = "Hello there",
    from_address: str = "News <news@example.com>",
) -> OutgoingMessage:
    """One rendered message with the unsubscribe headers every marketing message carries."""
    token = uuid4().hex
    return OutgoingMessage(
        message_id=uuid4(),
        campaign_id=CAMPAIGN,
        contact_id=uuid4(),
        from_address=from_address,
        to=to,
        subject=subject,
        html=html if html is not None else f"<p>Hello {to}</p>",
        text=text,
        headers={
            "List-Unsubscribe": f"<https://t.example.com/u/{token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        run_id=RUN,
    )

"""The contact pages' routes, answering every failure with an HTML page of their own."""

from __future__ import annotations

from litestar import Router

from interfaces.http.pages.problems import page_exception_handlers
from interfaces.http.preference_center import preference_center, save_preferences
from interfaces.http.unsubscribe import unsubscribe_now, unsubscribe_page

contact_pages = Router(
    path="/",
    route_handlers=[preference_center, save_preferences, unsubscribe_page, unsubscribe_now],
    exception_handlers=page_exception_handlers(),
)

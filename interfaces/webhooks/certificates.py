"""Fetching SNS signing certificates: HTTPS only, only from SNS hosts, cached per URL."""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

import httpx

from interfaces.webhooks.provider import VerificationFailed

_SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")


class CertificateFetcher:
    """Downloads a certificate once and keeps it (SNS rotates them by changing the URL)."""

    def __init__(self, timeout: float = 5.0) -> None:
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._timeout = timeout

    def __call__(self, url: str) -> bytes:
        """The PEM at ``url``; ``VerificationFailed`` if the URL is not an SNS certificate URL or is unreachable."""
        parts = urlsplit(url)
        if parts.scheme != "https" or not _SNS_HOST.match(parts.hostname or "") or parts.port or parts.username:
            raise VerificationFailed("the signing certificate URL is not an Amazon SNS URL")
        with self._lock:
            if url in self._cache:
                return self._cache[url]
        try:
            response = httpx.get(url, timeout=self._timeout, follow_redirects=False)
            response.raise_for_status()
        except httpx.HTTPError:
            raise VerificationFailed("the signing certificate could not be fetched") from None
        with self._lock:
            self._cache[url] = response.content
        return response.content


def confirm_subscription(subscribe_url: str, timeout: float = 5.0) -> None:
    """Visit an SNS SubscribeURL (only on an SNS host, over HTTPS); raises on failure."""
    parts = urlsplit(subscribe_url)
    if parts.scheme != "https" or not _SNS_HOST.match(parts.hostname or ""):
        raise ValueError("the SubscribeURL is not an Amazon SNS URL")
    httpx.get(subscribe_url, timeout=timeout, follow_redirects=False).raise_for_status()

"""Prometheus metrics: request counts and latency per route, and projection lag at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class ProjectionLagCollector(Collector):
    """Reads positions when scraped, so the figure is never stale."""

    def __init__(self, status: Callable[[], Sequence[Any]]) -> None:
        self._status = status

    def collect(self) -> Iterable[GaugeMetricFamily]:
        lag = GaugeMetricFamily("tidings_projection_lag", "Log positions not yet applied", labels=["projection"])
        position = GaugeMetricFamily("tidings_projection_position", "Last applied log position", labels=["projection"])
        for st in self._status():
            lag.add_metric([st.name], st.lag)
            position.add_metric([st.name], st.position)
        yield lag
        yield position


class Metrics:
    """One registry per app instance (tests build many apps in one process)."""

    def __init__(self, status: Callable[[], Sequence[Any]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tidings_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "tidings_http_request_duration_seconds", "HTTP request latency", ["method", "route"], registry=self.registry
        )
        self.registry.register(ProjectionLagCollector(status))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

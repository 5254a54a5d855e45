"""Edges: configuration, composition root, HTTP API, webhooks, pages and the CLI."""

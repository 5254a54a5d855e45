"""`tidings keys create|list|revoke`."""

from __future__ import annotations

import uuid

import click
from rich.console import Console
from rich.table import Table

from domain.api_key import Role
from domain.events import because
from interfaces.cli.context import open_container
from projections.api_keys import list_keys

console = Console()


@click.group()
def keys() -> None:
    """Manage API keys."""


@keys.command()
@click.option("--name", required=True, help="Display name of the key.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the key may do.")
@click.option("--reason", default=None, help="Why; recorded in the audit log.")
def create(name: str, role: str, reason: str | None) -> None:
    """Issue a key and print its secret (shown this once)."""
    with open_container() as c, because(reason):
        issued = c.keys.issue(name, role)
        c.runner.catch_up_all()
    click.echo(f"id:   {issued.key.id}\nrole: {role}\nkey:  {issued.token}")
    click.echo("Store the key now: it cannot be shown again.", err=True)


@keys.command(name="list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
def list_(include_revoked: bool) -> None:
    """List keys (never their secrets)."""
    with open_container() as c:
        c.runner.catch_up_all()
        rows = list_keys(c.db, include_revoked)
    table = Table("name", "role", "prefix", "created", "revoked")
    table.add_column("id", no_wrap=True, min_width=36)
    for r in rows:
        table.add_row(r.name, r.role, r.prefix + "…", r.created_at[:19], (r.revoked_at or "")[:19], str(r.id))
    console.print(table)


@keys.command()
@click.argument("key_id", type=click.UUID)
@click.option("--reason", default=None, help="Why; recorded in the audit log.")
def revoke(key_id: uuid.UUID, reason: str | None) -> None:
    """Revoke a key for good."""
    with open_container() as c, because(reason):
        c.keys.revoke(key_id)
        c.runner.catch_up_all()
    click.echo(f"revoked {key_id}")

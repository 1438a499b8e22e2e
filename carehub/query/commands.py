"""Commands for the query API's operators: API keys and Kafka ACLs of the access profiles, and the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from carehub.errors import ConfigError
from carehub.settings import Settings

acl_app = typer.Typer(help="Access profiles of downstream systems: API keys and Kafka ACLs.", no_args_is_help=True)
audit_app = typer.Typer(help="The query API's audit log: who read what, when.", no_args_is_help=True)

out = Console()
ProfilesOption = Annotated[Path | None, typer.Option(
    "--profiles", help="the profiles YAML; default: CAREHUB_ACCESS_PROFILES", show_default=False)]


def _profiles_path(given: Path | None, settings: Settings) -> Path:
    from carehub.query.profiles import EXAMPLE, SETTING

    path = given or settings.access_profiles
    if path is None:
        raise ConfigError(f"no profiles file: set {SETTING} or give --profiles (start from {EXAMPLE})")
    return path


def _bootstrap_server(given: str | None, settings: Settings) -> str:
    from carehub.broker.url import KafkaURL, parse_broker_url

    if given:
        return given
    broker = parse_broker_url(settings.broker_url)
    if isinstance(broker, KafkaURL):
        return broker.bootstrap_servers[0]
    raise typer.BadParameter("CAREHUB_BROKER is not a kafka:// URL; give the Kafka cluster's HOST:PORT",
                             param_hint="--bootstrap-server")


@acl_app.command("plan")
def acl_plan_command(
    bootstrap_server: Annotated[str | None, typer.Option(
        "--bootstrap-server", metavar="HOST:PORT", help="the Kafka cluster; default: the first server of CAREHUB_BROKER")] = None,
    command_config: Annotated[str | None, typer.Option(
        "--command-config", help="kafka-acls.sh's client properties file, for a cluster that needs SASL or TLS")] = None,
    profiles: ProfilesOption = None,
) -> None:
    """Print the kafka-acls.sh commands that let each profile (principal User:<name>) read exactly the
    ds.* topics of the datasets it may read in full, with its consumer groups. Nothing is applied:
    review the plan, then run it against the cluster."""
    from carehub.query.acl import acl_plan
    from carehub.query.profiles import load_profiles

    settings = Settings()
    server = _bootstrap_server(bootstrap_server, settings)
    loaded = load_profiles(_profiles_path(profiles, settings))
    typer.echo("\n".join(acl_plan(loaded, server, topic_prefix=settings.topic_prefix, command_config=command_config)))


@acl_app.command("key")
def acl_key(
    profile: Annotated[str, typer.Argument(help="the profile (downstream system) the key is for")],
    profiles: ProfilesOption = None,
) -> None:
    """Make a new API key for a profile: give the key to the system, paste the hash into the profile's
    key_hashes, restart `carehub serve`. The key is shown once and stored nowhere."""
    from carehub.query.profiles import hash_key, load_profiles, new_key

    settings = Settings()
    path = profiles or settings.access_profiles
    if path is not None and path.exists():
        known = load_profiles(path).by_name
        if profile not in known:
            raise ConfigError(f"{path} has no profile {profile!r}; its profiles are {', '.join(known) or 'none'}")
    key = new_key()
    typer.echo(f"API key for {profile} (give it to the system; it is not stored anywhere):\n  {key}\n"
               f"Paste into profiles.{profile}.key_hashes{f' of {path}' if path else ''}:\n  - {hash_key(key)}")


@audit_app.command("list")
def audit_list(
    profile: Annotated[str | None, typer.Option(help="only reads by this profile")] = None,
    subject: Annotated[str | None, typer.Option(help="only reads of this person key or credit code")] = None,
    since: Annotated[datetime | None, typer.Option(help="from this time, UTC (e.g. 2026-11-01 or 2026-11-01T08:00)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="how many entries, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
) -> None:
    """The newest reads through the query API: when, which profile and key, endpoint, datasets, the
    person key or credit code asked for, filters, rows returned and the answer's HTTP status."""
    from carehub.hub import Hub
    from carehub.query.audit import entries

    with Hub(Settings()).engine.connect() as conn:
        rows = entries(conn, profile=profile, subject_key=subject, limit=limit,
                       since=since.replace(tzinfo=since.tzinfo or UTC) if since else None)
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        out.print("no reads recorded")
        return
    table = Table("at", "profile", "key", "endpoint", "datasets", "subject", "query", "rows", "status",
                  title="query API audit log (newest first)", title_justify="left")
    for row in rows:
        subject = row["subject_key"] or ""
        table.add_row(row["at"][:19].replace("T", " "), row["profile"], row["key_id"], row["endpoint"], row["datasets"],
                      subject if len(subject) <= 18 else subject[:12] + "…",
                      json.dumps(row["query"], ensure_ascii=False) if row["query"] else "", str(row["results"]),
                      str(row["status"]))
    out.print(table)

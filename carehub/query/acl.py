"""The Kafka ACLs that let each profile read exactly its dataset topics, as kafka-acls.sh commands."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from carehub.query.profiles import AccessProfile
from consumers.changelog import ALERTS_TOPIC
from consumers.datasets import DATASETS

#: The topic a subscriber reads each dataset from.
DATASET_TOPICS: dict[str, str] = {d.name: d.changelog_topic for d in DATASETS} | {"risk_alert": ALERTS_TOPIC}


def _grant(connection: list[str], principal: str, resource: list[str]) -> str:
    return shlex.join(["kafka-acls.sh", *connection, "--add", "--allow-principal", principal, "--operation", "Read", *resource])


def acl_plan(profiles: Iterable[AccessProfile], bootstrap_server: str, *, topic_prefix: str = "",
             command_config: str | None = None) -> list[str]:
    """Per profile, a comment naming it, then one Read grant per dataset topic and per consumer group.

    A topic ACL grants every field of every record, so a dataset the profile may read only some fields
    of is left out, with a comment saying so: such a system reads it through the query API."""
    connection = ["--bootstrap-server", bootstrap_server, *(["--command-config", command_config] if command_config else [])]
    lines: list[str] = []
    for profile in profiles:
        principal = f"User:{profile.name}"
        lines.append(f"# {profile.name}: {profile.description}".rstrip(": "))
        whole = [d for d in DATASET_TOPICS if profile.fields(d) and profile.reads_every_field(d)]
        partial = [d for d in DATASET_TOPICS if profile.fields(d) and not profile.reads_every_field(d)]
        for dataset in partial:
            lines.append(f"# {profile.name} may read only some fields of {dataset}: no grant on "
                         f"{topic_prefix}{DATASET_TOPICS[dataset]}; it reads {dataset} through the query API")
        if not whole:
            lines.append(f"# {profile.name} reads no dataset topic in full: no grant")
            continue
        lines += [_grant(connection, principal, ["--topic", topic_prefix + DATASET_TOPICS[d]]) for d in whole]
        lines += [_grant(connection, principal, ["--group", group]) for group in profile.kafka_groups]
    return lines

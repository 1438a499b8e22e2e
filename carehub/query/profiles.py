"""Subscriber access profiles: the endpoints, datasets and fields each downstream system may read, and its key hashes.

A profiles file (YAML, named by CAREHUB_ACCESS_PROFILES) looks like carehub/query/profiles.example.yaml:

    profiles:
      elder-portal:
        description: 居家养老服务门户
        endpoints: [elders, elder_lookup]
        datasets:
          elder: [name, sex, birth_date, alive]
          care_service: "*"
        key_hashes: [sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08]

The file holds only SHA-256 hashes of the API keys (`carehub acl key PROFILE` makes a key and its hash)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from carehub.errors import ConfigError
from consumers.datasets import DATASETS
from consumers.export import WITHHELD
from consumers.findings import risk_alert

SETTING = "CAREHUB_ACCESS_PROFILES"
EXAMPLE = "carehub/query/profiles.example.yaml"

#: What a profile may read: the six basic datasets and the risk alerts, each a table.
READABLE: dict[str, sa.Table] = {d.name: d.table for d in DATASETS} | {"risk_alert": risk_alert}
#: Each readable table's key column: always returned, since it is what a caller asks by.
KEY_COLUMNS: dict[str, str] = {d.name: d.key for d in DATASETS} | {"risk_alert": "alert_id"}
#: The endpoints a profile may be granted, by the name a profile lists them under.
ENDPOINTS: dict[str, str] = {
    "elders": "GET /api/elders/{person_key}: one elder across elder, health_record, care_service and risk_alert",
    "elder_lookup": "POST /api/elders/lookup: the same, found by resident ID (pseudonymised by the hub)",
    "institutions": "GET /api/institutions: search providers by division, service and grade",
    "map": "GET /api/map.geojson: providers with coordinates as GeoJSON, for the service map",
    "datasets": "GET /api/datasets/{dataset}/{key}: one row of any dataset the profile may read",
}
#: A profile's dataset entry granting every field.
EVERY_FIELD = "*"
KEY_HASH_PREFIX = "sha256:"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def readable_fields(dataset: str) -> frozenset[str]:
    """Every field of a readable table that may leave the hub (never the encrypted resident ID)."""
    return frozenset(c.name for c in READABLE[dataset].columns if c.name not in WITHHELD)


def hash_key(api_key: str) -> str:
    """The form an API key is stored in: its SHA-256, hex, prefixed `sha256:`."""
    return KEY_HASH_PREFIX + hashlib.sha256(api_key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random API key (256 bits); `chk_` lets secret scanners recognise it."""
    return "chk_" + secrets.token_urlsafe(32)


class AccessProfile(BaseModel):
    """One downstream system: what it may call and read, and the hashes of its API keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN, description="the system's name; also its Kafka principal User:<name>")
    description: str = ""
    endpoints: frozenset[str] = frozenset()
    datasets: dict[str, frozenset[str]] = Field(default_factory=dict, description='dataset -> fields, or "*" for every field')
    key_hashes: frozenset[str] = frozenset()
    consumer_groups: tuple[str, ...] = Field(default=(), description="Kafka consumer groups it reads with; default: its name")

    @field_validator("endpoints")
    @classmethod
    def _known_endpoints(cls, endpoints: frozenset[str]) -> frozenset[str]:
        unknown = sorted(endpoints - ENDPOINTS.keys())
        if unknown:
            raise ValueError(f"unknown endpoint {', '.join(unknown)}; endpoints are {', '.join(ENDPOINTS)}")
        return endpoints

    @field_validator("datasets", mode="before")
    @classmethod
    def _known_fields(cls, datasets: Any) -> dict[str, frozenset[str]]:
        if not isinstance(datasets, Mapping):
            raise ValueError('give a mapping of dataset to a list of fields or "*"')
        granted: dict[str, frozenset[str]] = {}
        for name, fields in datasets.items():
            if name not in READABLE:
                raise ValueError(f"unknown dataset {name!r}; datasets are {', '.join(READABLE)}")
            allowed = readable_fields(name)
            if fields == EVERY_FIELD:
                granted[name] = allowed
                continue
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                raise ValueError(f'{name}: give a list of field names or "*"')
            never = sorted(set(fields) & WITHHELD)
            if never:
                raise ValueError(f"{name}: {', '.join(never)} never leaves the hub; resident_id_masked is the form to read")
            unknown = sorted(set(fields) - allowed)
            if unknown:
                raise ValueError(f"{name}: unknown field {', '.join(unknown)}; its fields are {', '.join(sorted(allowed))}")
            granted[name] = frozenset(fields) | {KEY_COLUMNS[name]}
        return granted

    @field_validator("key_hashes")
    @classmethod
    def _hashes_only(cls, hashes: frozenset[str]) -> frozenset[str]:
        for value in hashes:
            digest = value.removeprefix(KEY_HASH_PREFIX)
            if not value.startswith(KEY_HASH_PREFIX) or len(digest) != 64 or digest.strip("0123456789abcdef"):
                raise ValueError("key_hashes hold sha256:<64 hex digits>, never a key itself; "
                                 "`carehub acl key PROFILE` prints a new key and the hash to paste here")
        return hashes

    @field_validator("consumer_groups")
    @classmethod
    def _plain_group_names(cls, groups: tuple[str, ...]) -> tuple[str, ...]:
        bad = [g for g in groups if not re.match(NAME_PATTERN, g)]
        if bad:
            raise ValueError(f"consumer group {', '.join(bad)}: use letters, digits, '.', '_' and '-'")
        return groups

    @property
    def kafka_groups(self) -> tuple[str, ...]:
        return self.consumer_groups or (self.name,)

    def may_call(self, endpoint: str) -> bool:
        return endpoint in self.endpoints

    def fields(self, dataset: str) -> frozenset[str]:
        """The fields of `dataset` this profile may read; empty if none."""
        return self.datasets.get(dataset, frozenset())

    def reads_every_field(self, dataset: str) -> bool:
        return self.fields(dataset) == readable_fields(dataset)

    def visible(self, dataset: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """`row` cut down to the fields this profile may read."""
        allowed = self.fields(dataset)
        return {name: value for name, value in row.items() if name in allowed}


class AccessProfiles:
    """Every profile of a profiles file, found by name or by the API key a request carries."""

    def __init__(self, profiles: list[AccessProfile]):
        self.by_name = {p.name: p for p in profiles}
        self._by_key_hash: dict[str, AccessProfile] = {}
        for profile in profiles:
            for key_hash in profile.key_hashes:
                other = self._by_key_hash.setdefault(key_hash, profile)
                if other is not profile:
                    raise ConfigError(f"profiles {other.name} and {profile.name} share the key hash {key_hash}; "
                                      "give each system its own key (`carehub acl key PROFILE`)")

    def __iter__(self):  # noqa: ANN204 - an iterator of AccessProfile
        return iter(self.by_name.values())

    def authenticate(self, api_key: str) -> AccessProfile | None:
        """The profile whose key this is, or None for a key no profile holds."""
        return self._by_key_hash.get(hash_key(api_key))


def parse_profiles(document: Any, origin: str) -> AccessProfiles:
    """Profiles from a parsed YAML document; `origin` names it in errors."""
    entries = document.get("profiles") if isinstance(document, Mapping) else None
    if not isinstance(entries, Mapping):
        raise ConfigError(f"{origin}: expected a top-level 'profiles:' mapping of system name to profile; see {EXAMPLE}")
    profiles = []
    for name, body in entries.items():
        try:
            profiles.append(AccessProfile.model_validate({**(body or {}), "name": str(name)}))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'profile'}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
            raise ConfigError(f"{origin}: profile {name}: {problems}") from None
        except TypeError:
            raise ConfigError(f"{origin}: profile {name}: expected a mapping of endpoints, datasets and key_hashes") from None
    return AccessProfiles(profiles)


def load_profiles(path: Path) -> AccessProfiles:
    """Read and check a profiles file; every mistake is a ConfigError naming the file and the profile."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{SETTING}={path}: cannot read it ({exc.strerror}); start from {EXAMPLE}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{SETTING}={path}: not valid YAML ({exc})") from None
    return parse_profiles(document, f"{SETTING}={path}")

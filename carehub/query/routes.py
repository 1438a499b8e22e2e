"""The query API's routes: one-stop elder queries, provider search and map, each checked against the caller's
profile and written to the audit log in the transaction that read it.

No `from __future__ import annotations` here: FastAPI reads the routes' parameter annotations, which name
dependencies defined inside query_router."""

import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader

from carehub.identifiers import credit_code, resident_id
from carehub.query.audit import AuditEntry, record
from carehub.query.models import (
    ROW_MODELS, ElderView, InstitutionMap, InstitutionResults, LookupRequest, Problem,
)
from carehub.query.profiles import (
    ENDPOINTS, EXAMPLE, KEY_COLUMNS, KEY_HASH_PREFIX, READABLE, SETTING, AccessProfile, hash_key, load_profiles,
)
from carehub.query.reads import InstitutionSearch, alerts_about, mapped_institutions, row_by_key, search_institutions

if TYPE_CHECKING:
    from carehub.hub import Hub

log = logging.getLogger(__name__)

PERSON_KEY = r"^[0-9a-f]{64}$"
#: Whether a key of each key column is well formed. A key that is not is refused before it is read or
#: audited, so a resident ID sent where a key belongs never reaches the audit log.
KEY_SHAPES: dict[str, Callable[[str], bool]] = {
    "person_key": re.compile(PERSON_KEY).match,
    "alert_id": re.compile(r"^[0-9a-f]{32}$").match,
    "credit_code": lambda key: _parses(credit_code.parse, key) and key == credit_code.normalise(key),
}
#: The datasets the one-stop elder view adds to the elder row, each under its own name.
ELDER_SECTIONS = ("health_record", "care_service")
#: Readable datasets by name, as a path parameter's choices.
DatasetName = Literal[tuple(READABLE)]  # type: ignore[valid-type]
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no X-API-Key, or a key no profile holds"},
    403: {"model": Problem, "description": "the profile may not call this endpoint or read this dataset"},
    503: {"model": Problem, "description": "the hub has no access profiles (CAREHUB_ACCESS_PROFILES)"},
}
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False,
    description="the API key of your system's access profile; the hub's operators issue it (`carehub acl key`)",
)


def _parses(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def well_formed_key(dataset: str, key: str) -> bool:
    """Whether `key` has the shape of `dataset`'s keys and is not a resident ID."""
    return KEY_SHAPES[KEY_COLUMNS[dataset]](key) and not _parses(resident_id.parse, key)


class QueryRoute(APIRoute):
    """Answers invalid requests without echoing what was sent, so a mistyped resident ID is never reflected."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def without_input(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
                return JSONResponse({"detail": errors}, status_code=422)

        return without_input


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


@dataclass(frozen=True)
class Caller:
    """Who is asking: the profile the API key belongs to, which of its keys, from where."""

    profile: AccessProfile
    key_id: str
    client: str | None


class Refusal(Exception):
    """A request answered with an error, recorded in the audit log like any read."""

    def __init__(self, status: int, detail: str, datasets: tuple[str, ...] = ()):
        self.status, self.detail, self.datasets = status, detail, datasets
        super().__init__(detail)


@dataclass(frozen=True)
class Answer:
    body: Any
    datasets: tuple[str, ...]
    results: int


def refuse(status: int, detail: str, datasets: tuple[str, ...] = ()) -> Callable[[sa.Connection], Answer]:
    """A read that refuses: an invalid request, audited without what made it invalid."""

    def refused(_conn: sa.Connection) -> Answer:
        raise Refusal(status, detail, datasets)

    return refused


def _require(profile: AccessProfile, dataset: str) -> None:
    if not profile.fields(dataset):
        raise Refusal(403, f"profile {profile.name} may not read dataset {dataset}; "
                      "ask the hub's operators to add it to the profile's datasets", (dataset,))


def elder_answer(conn: sa.Connection, profile: AccessProfile, person_key: str, asked_by: str = "person key") -> Answer:
    """The elder and every section about them the profile may read."""
    _require(profile, "elder")
    found = row_by_key(conn, "elder", person_key)
    if found is None:
        raise Refusal(404, f"no elder has this {asked_by}", ("elder",))
    view: dict[str, Any] = {"person_key": person_key, "elder": profile.visible("elder", found)}
    datasets, results = ["elder"], 1
    for dataset in ELDER_SECTIONS:
        if profile.fields(dataset):
            row = row_by_key(conn, dataset, person_key)
            view[dataset] = profile.visible(dataset, row) if row else None
            datasets.append(dataset)
            results += row is not None
    if profile.fields("risk_alert"):
        view["alerts"] = [profile.visible("risk_alert", a) for a in alerts_about(conn, "elder", person_key)]
        datasets.append("risk_alert")
        results += len(view["alerts"])
    return Answer(ElderView.model_validate(view), tuple(datasets), results)


def query_router(hub: "Hub") -> APIRouter:
    """The query API, open to the profiles of CAREHUB_ACCESS_PROFILES (read once, when the server starts)."""
    path = hub.settings.access_profiles
    profiles = load_profiles(path) if path is not None else None
    router = APIRouter(prefix="/api", tags=["query"], route_class=QueryRoute, responses=REFUSALS)

    def caller(request: Request, api_key: Annotated[str | None, Security(api_key_header)] = None) -> Caller:
        if profiles is None:
            raise HTTPException(503, f"the query API is closed: this hub has no access profiles; set {SETTING} "
                                f"to a profiles file (see {EXAMPLE}) and restart `carehub serve`")
        client = request.client.host if request.client else None
        if not api_key or (profile := profiles.authenticate(api_key)) is None:
            log.warning("query API: refused a request with %s from %s", "an unknown API key" if api_key else "no API key", client)
            raise HTTPException(401, "send the API key of your system's access profile in the X-API-Key header; "
                                "the hub's operators issue keys with `carehub acl key PROFILE`",
                                headers={"WWW-Authenticate": "X-API-Key"})
        return Caller(profile, hash_key(api_key).removeprefix(KEY_HASH_PREFIX)[:12], client)

    def answer(who: Caller, endpoint: str, read: Callable[[sa.Connection], Answer], *,
               subject_key: str | None = None, query: dict[str, Any] | None = None) -> Any:
        """Check the endpoint, read, and audit the read in the same transaction; refusals are audited too."""
        entry = AuditEntry(who.profile.name, who.key_id, endpoint, subject_key=subject_key, query=query or {}, client=who.client)
        try:
            if not who.profile.may_call(endpoint):
                raise Refusal(403, f"profile {who.profile.name} may not call {ENDPOINTS[endpoint]}; "
                              f"ask the hub's operators to add {endpoint} to the profile's endpoints")
            with hub.engine.begin() as conn:
                done = read(conn)
                record(conn, replace(entry, datasets=done.datasets, results=done.results))
            return done.body
        except Refusal as refusal:
            with hub.engine.begin() as conn:
                record(conn, replace(entry, datasets=refusal.datasets, status=refusal.status))
            log.warning("query API: refused %s to profile %s (%s)", endpoint, who.profile.name, refusal.status)
            raise HTTPException(refusal.status, refusal.detail) from None

    CallerDep = Annotated[Caller, Depends(caller)]

    @router.get("/elders/{person_key}", response_model=ElderView, response_model_exclude_unset=True,
                summary="One elder across the datasets (一网通查)",
                responses={404: {"model": Problem, "description": "no elder has this person key"}})
    def elder(who: CallerDep, person_key: Annotated[str, Path(pattern=PERSON_KEY, description="the elder's person key")]) -> Any:
        """The elder row, health record, care services and risk alerts of one elder, each cut to the fields
        the caller's profile may read. Needs endpoint `elders` and dataset `elder`."""
        return answer(who, "elders", lambda conn: elder_answer(conn, who.profile, person_key), subject_key=person_key)

    @router.post("/elders/lookup", response_model=ElderView, response_model_exclude_unset=True,
                 summary="One elder across the datasets, by resident ID",
                 responses={404: {"model": Problem, "description": "no elder has this resident ID"},
                            422: {"model": Problem, "description": "not a valid resident ID (the ID is never echoed)"}})
    def lookup(who: CallerDep, body: LookupRequest) -> Any:
        """As GET /api/elders/{person_key}, for a caller that knows the resident ID: the hub turns it into the
        person key and forgets it; it is never logged, stored or echoed. POST keeps it out of URLs and access
        logs. Needs endpoint `elder_lookup` and dataset `elder`."""
        try:
            person_key = hub.protector.person_key(resident_id.parse(body.resident_id.get_secret_value()).value)
        except resident_id.ResidentIdError as exc:  # its message never contains the ID
            return answer(who, "elder_lookup", refuse(422, f"resident_id: {exc}; send the 18-character ID (or the old 15-digit one)"))
        return answer(who, "elder_lookup", lambda conn: elder_answer(conn, who.profile, person_key, "resident ID"),
                      subject_key=person_key)

    @router.get("/institutions", response_model=InstitutionResults, response_model_exclude_unset=True,
                summary="Search care providers")
    def institutions(
        who: CallerDep,
        division: Annotated[str | None, Query(description="GB/T 2260 code: 320000 a province, 320500 a city, 320505 a county")] = None,
        service: Annotated[str | None, Query(description="a service the provider offers, e.g. day_care or meal_assistance")] = None,
        grade_min: Annotated[int | None, Query(description="lowest grade (GB/T 37276: 1 一级 … 5 五级)")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Any:
        """Providers in a division, offering a service, of at least a grade, by credit code, cut to the
        fields the profile may read. Needs endpoint `institutions` and dataset `institution`."""
        try:
            search = InstitutionSearch(division, service, grade_min)
        except ValueError as exc:
            return answer(who, "institutions", refuse(422, str(exc), ("institution",)))

        def read(conn: sa.Connection) -> Answer:
            _require(who.profile, "institution")
            total, rows = search_institutions(conn, search, limit, offset)
            page = [who.profile.visible("institution", row) for row in rows]
            return Answer(InstitutionResults.model_validate({"total": total, "institutions": page}), ("institution",), len(page))

        return answer(who, "institutions", read, query={**search.as_query(), "limit": limit, "offset": offset})

    @router.get("/map.geojson", response_model=InstitutionMap, response_model_exclude_unset=True,
                response_class=GeoJSONResponse, summary="The service map (养老服务电子地图) as GeoJSON")
    def service_map(
        who: CallerDep,
        division: Annotated[str | None, Query(description="GB/T 2260 code: 320000 a province, 320500 a city, 320505 a county")] = None,
        service: Annotated[str | None, Query(description="a service the provider offers, e.g. day_care")] = None,
        grade_min: Annotated[int | None, Query(description="lowest grade (1 一级 … 5 五级)")] = None,
    ) -> Any:
        """Every matching provider with coordinates as a GeoJSON Feature: a Point at its longitude and
        latitude, its credit code as id, and as properties the institution fields the profile may read
        (name, services_offered, grade, …). Needs endpoint `map` and the institution fields longitude and latitude."""
        try:
            search = InstitutionSearch(division, service, grade_min)
        except ValueError as exc:
            return answer(who, "map", refuse(422, str(exc), ("institution",)))

        def read(conn: sa.Connection) -> Answer:
            _require(who.profile, "institution")
            if not {"longitude", "latitude"} <= who.profile.fields("institution"):
                raise Refusal(403, f"profile {who.profile.name} may not read institution.longitude and latitude, "
                              "which the map is drawn from; ask the hub's operators to add them", ("institution",))
            features = [{"type": "Feature", "id": row["credit_code"],
                         "geometry": {"type": "Point", "coordinates": (row["longitude"], row["latitude"])},
                         "properties": who.profile.visible("institution", row)}
                        for row in mapped_institutions(conn, search)]
            body = InstitutionMap.model_validate({"type": "FeatureCollection", "features": features})
            return Answer(body, ("institution",), len(features))

        return answer(who, "map", read, query=search.as_query())

    @router.get("/datasets/{dataset}/{key}", response_model=dict[str, Any], summary="One row of a dataset",
                responses={404: {"model": Problem, "description": "the dataset has no row with this key"}})
    def dataset_row(who: CallerDep, dataset: Annotated[DatasetName, Path(description="a dataset the profile may read")],
                    key: Annotated[str, Path(max_length=64, description="person key, credit code or alert id")]) -> Any:
        """The row of `dataset` with this key (person key, unified social credit code or alert id), cut to
        the fields the profile may read. Needs endpoint `datasets` and the dataset."""
        if not well_formed_key(dataset, key):
            return answer(who, "datasets", refuse(422, f"not a {KEY_COLUMNS[dataset]} of {dataset}; a person is asked by "
                                                  "person key (POST /api/elders/lookup takes a resident ID)", (dataset,)))

        def read(conn: sa.Connection) -> Answer:
            _require(who.profile, dataset)
            row = row_by_key(conn, dataset, key)
            if row is None:
                raise Refusal(404, f"{dataset} has no row with this key", (dataset,))
            typed = ROW_MODELS[dataset].model_validate(who.profile.visible(dataset, row))
            return Answer(typed.model_dump(mode="json", exclude_unset=True), (dataset,), 1)

        return answer(who, "datasets", read, subject_key=key)

    return router

"""The access API's HTTP surface (README, "Reading indicators").

Handlers authenticate, ask the gate, answer. Every error body is
`{"detail": {"reason": <code>, "message": <one line>}}`:

- 401 `missing_token` / `invalid_token` (unknown, replaced or revoked), with
  `WWW-Authenticate: Bearer`;
- 403 a consent reason code of `contracts.consent` (`convention_not_applicable`
  when the convention expired or was tampered with, `consumer_not_named`,
  `indicator_not_named`, `channel_not_allowed`, `no_convention`), or
  `no_consent` on the catalog when no indicator is consented;
- 404 `unknown_indicator`, `unknown_period`, `unknown_level`, `unknown_code`,
  `unknown_release` (also for a release of an indicator the consumer may
  not read: the register does not say what exists beyond consent);
- 503 `governance_unavailable`, `token_store_unavailable`,
  `audit_unavailable`: the hub fails closed rather than serve unaudited or
  against files it cannot read.

Unauthenticated requests are logged, not audited: the audit trail is of
consent decisions, which need a known consumer.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn, Protocol

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contracts.consent import ConsentReason
from hub.api import render
from hub.api.access import NO_CONSENT, AccessGate
from hub.api.auditing import AuditSink
from hub.api.errors import AccessError
from hub.api.governance import Governance
from hub.api.models import (
    ErrorBody,
    Format,
    Health,
    IndicatorList,
    IndicatorTable,
    ReleaseDetail,
    ReleaseList,
)
from hub.api.shapes import Shapes, load_shapes
from hub.api.tokens import TokenStore
from hub.api.view import ReleaseView
from hub.metrics import HubMetrics
from hub.settings import HubSettings

log = logging.getLogger(__name__)

API_VERSION = "1"
PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$"
CODE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$"  # IRIS, commune, QPV, SIREN, zone
LEVEL_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
AUTH_HEADERS = {"WWW-Authenticate": 'Bearer realm="obshub"'}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid bearer token"},
    403: {"model": ErrorBody, "description": "no consent (reason code in the body)"},
    503: {"model": ErrorBody, "description": "governance, tokens or audit unavailable"},
}


class Service(Protocol):
    """Something the app starts with it and stops after it (feed, audit producer)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def _fail(
    status: int, reason: str, message: str, headers: dict[str, str] | None = None
) -> NoReturn:
    raise HTTPException(status, detail={"reason": reason, "message": message}, headers=headers)


def only_query(*names: str) -> Callable[[Request], None]:
    """A dependency refusing (422, as FastAPI's own validation) a query parameter
    the endpoint does not take: a misspelt filter must not silently widen an answer.
    Endpoints list it after authentication: without a valid token the answer is 401,
    whatever the query."""

    def check(request: Request) -> None:
        unknown = [name for name in request.query_params if name not in names]
        if unknown:
            raise RequestValidationError(
                [
                    {
                        "type": "extra_forbidden",
                        "loc": ("query", name[:50]),
                        "msg": f"unknown query parameter (allowed: {', '.join(names) or 'none'})",
                        "input": None,
                    }
                    for name in unknown[:5]
                ]
            )

    return check


def create_app(
    settings: HubSettings,
    view: ReleaseView,
    *,
    audit: AuditSink,
    tokens: TokenStore | None = None,
    governance: Governance | None = None,
    shapes: Shapes | None = None,
    metrics: HubMetrics | None = None,
    clock: Callable[[], datetime] = utc_now,
    services: Sequence[Service] = (),
) -> FastAPI:
    """The access API over `view`. What is not given is built from `settings`:
    tokens under `access_dir`, conventions, catalog and keys from their files,
    shapes from `territory_dir`. `clock` gives the instant consent is
    resolved at; `services` start and stop with the app."""
    metrics = metrics or HubMetrics()
    gate = AccessGate(
        tokens or TokenStore(settings.access_dir),
        governance or Governance.from_settings(settings),
        audit,
        metrics,
        clock,
    )
    territory = shapes if shapes is not None else load_shapes(settings.territory_dir)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for service in services:
                await service.start()
                stack.push_async_callback(service.stop)
            yield

    app = FastAPI(
        title="obshub access API",
        version=API_VERSION,
        description=(
            "Consented, audited access to the indicators of observation partagée. "
            "Every request needs `Authorization: Bearer <token>` "
            "(`obshub access token CONSUMER`)."
        ),
        lifespan=lifespan,
    )
    bearer = HTTPBearer(auto_error=False, description="a token from `obshub access token`")

    @app.exception_handler(AccessError)
    async def unavailable(_: Request, exc: AccessError) -> JSONResponse:
        log.error("access unavailable reason=%s error=%s", exc.reason, exc)
        message = "the hub cannot serve this request now; try again later"
        return JSONResponse({"detail": {"reason": exc.reason, "message": message}}, status_code=503)

    async def consumer_of(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if credentials is None:
            _fail(401, "missing_token", "send Authorization: Bearer <token>", AUTH_HEADERS)
        consumer = await gate.authenticate(credentials.credentials)
        if consumer is None:
            log.info("access refused reason=invalid_token")
            headers = {"WWW-Authenticate": 'Bearer realm="obshub", error="invalid_token"'}
            _fail(401, "invalid_token", "the token is unknown, replaced or revoked", headers)
        return consumer

    Consumer = Annotated[str, Depends(consumer_of)]

    @app.get(
        "/v1/indicators",
        response_model=IndicatorList,
        responses=ERRORS,
        dependencies=[Depends(consumer_of), Depends(only_query())],
    )
    async def list_indicators(consumer: Consumer) -> dict[str, Any]:
        """The indicators this consumer may read through the API, with their periods."""
        catalog = await gate.catalog(consumer)
        if not catalog.granted:
            reason = catalog.denials[0][1].reason.value if catalog.denials else NO_CONSENT
            _fail(403, NO_CONSENT, f"no indicator is consented to {consumer} ({reason})")
        entries = [render.indicator_summary(i, view.periods(i.id)) for i in catalog.granted]
        return {"indicators": entries}

    @app.get(
        "/v1/indicators/{indicator_id}",
        response_model=IndicatorTable,
        dependencies=[
            Depends(consumer_of),
            Depends(only_query("period", "level", "code", "format")),
        ],
        responses={
            **ERRORS,
            200: {
                "content": {"text/csv": {}, "application/geo+json": {}},
                "description": "the rows, as JSON, CSV or GeoJSON (`format`)",
            },
            404: {"model": ErrorBody, "description": "unknown indicator, period, level or code"},
        },
    )
    async def get_indicator(
        consumer: Consumer,
        indicator_id: Annotated[str, Path(max_length=100)],
        period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
        level: Annotated[str | None, Query(pattern=LEVEL_PATTERN)] = None,
        code: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
        fmt: Annotated[Format, Query(alias="format")] = Format.JSON,
    ) -> Any:
        """An indicator's rows for a period (default: the latest) and level (default: all)."""
        decision = await gate.authorise(consumer, indicator_id)
        if decision.reason is ConsentReason.UNKNOWN_INDICATOR:
            _fail(404, "unknown_indicator", decision.message)
        if not decision.granted:
            _fail(403, decision.reason.value, decision.message)
        indicator = gate.governance.current().catalog.get(indicator_id)
        if indicator is None:  # the catalog changed since the decision
            _fail(404, "unknown_indicator", f"no indicator {indicator_id} in the catalog")
        if level is not None and level not in indicator.levels:
            _fail(404, "unknown_level", f"{indicator_id} is not published at level {level}")
        chosen = period or view.latest_period(indicator_id)
        # one release, taken once: every row of the answer comes from it
        release = view.current(indicator_id, chosen) if chosen is not None else None
        if release is None:
            _fail(404, "unknown_period", f"{indicator_id} has no release for period {chosen}")
        rows = release.select(level, code)
        if code is not None and not rows:
            _fail(404, "unknown_code", f"{indicator_id} {chosen} has no row for {code}")
        if fmt is Format.CSV:
            filename = f"{indicator_id}_{chosen}.csv"
            return Response(
                render.table_csv(indicator, release, rows),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'inline; filename="{filename}"'},
            )
        if fmt is Format.GEOJSON:
            return JSONResponse(
                render.table_geojson(indicator, release, rows, territory),
                media_type="application/geo+json",
            )
        return render.table_json(indicator, release, rows)

    @app.get(
        "/v1/releases",
        response_model=ReleaseList,
        dependencies=[Depends(consumer_of), Depends(only_query("indicator", "period"))],
        responses={
            **ERRORS,
            404: {"model": ErrorBody, "description": "unknown indicator (when one is named)"},
        },
    )
    async def list_releases(
        consumer: Consumer,
        indicator: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
        period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    ) -> dict[str, Any]:
        """The register: every release of the indicators this consumer may read
        (filtered by indicator and period), oldest first, with its provenance."""
        if indicator is not None:
            decision = await gate.authorise(consumer, indicator)
            if decision.reason is ConsentReason.UNKNOWN_INDICATOR:
                _fail(404, "unknown_indicator", decision.message)
            if not decision.granted:
                _fail(403, decision.reason.value, decision.message)
            allowed = {indicator}
        else:
            catalog = await gate.catalog(consumer)
            if not catalog.granted:
                reason = catalog.denials[0][1].reason.value if catalog.denials else NO_CONSENT
                _fail(403, NO_CONSENT, f"no indicator is consented to {consumer} ({reason})")
            allowed = {i.id for i in catalog.granted}
        entries = [
            render.release_summary(r)
            for r in view.register(indicator, period)
            if r.indicator in allowed
        ]
        return {"releases": entries}

    @app.get(
        "/v1/releases/{release_id}",
        response_model=ReleaseDetail,
        dependencies=[Depends(consumer_of), Depends(only_query())],
        responses={
            **ERRORS,
            404: {"model": ErrorBody, "description": "no such release for this consumer"},
        },
    )
    async def get_release(
        consumer: Consumer,
        release_id: Annotated[str, Path(max_length=64, pattern=r"^[0-9a-f]+$")],
    ) -> dict[str, Any]:
        """One release of the register, with the rows it published."""
        release = view.release(release_id)
        missing = f"no release {release_id} for {consumer}"
        if release is None:
            _fail(404, "unknown_release", missing)
        decision = await gate.authorise(consumer, release.indicator)
        if not decision.granted:
            _fail(404, "unknown_release", missing)
        return render.release_detail(release)

    @app.get(
        "/healthz",
        response_model=Health,
        responses={503: {"model": Health, "description": "the view is not ready"}},
    )
    async def healthz() -> Any:
        """200 once the view has caught up with the indicators topic, else 503."""
        if view.ready:
            return Health(status="ok", rows=len(view))
        status = "failed" if view.failure else "starting"
        # the failure itself (broker addresses, paths) is in the API's log, not here
        detail = "the release feed stopped; see the API's log" if view.failure else None
        body = Health(status=status, rows=len(view), detail=detail)
        return JSONResponse(body.model_dump(), status_code=503)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app

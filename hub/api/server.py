"""The access API as deployed: the view fed from Kafka, audit to Kafka, uvicorn."""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

from contracts.keys import load_signing_key
from contracts.principals import load_credentials
from hub.api.app import create_app
from hub.api.auditing import KafkaAuditSink
from hub.api.feed import ReleaseFeed
from hub.api.view import ReleaseView
from hub.errors import PortInUseError
from hub.ports import port_is_free
from hub.settings import GOVERNANCE_PATHS, HubSettings

log = logging.getLogger(__name__)


def build_app(settings: HubSettings) -> FastAPI:
    """The app with its Kafka feed and audit producer, both as the hub principal;
    the hub operator's key signs the API's audit chain.

    Missing credentials, key or territory files raise here, before anything listens,
    naming the `OBSHUB_*` setting to set.
    """
    settings.require(*GOVERNANCE_PATHS, "hub_credentials_path", "operator_key_path")
    credentials = load_credentials(settings.hub_credentials_path)
    view = ReleaseView()
    feed = ReleaseFeed(view, credentials)
    operator_key = load_signing_key(settings.operator_key_path)
    audit = KafkaAuditSink(credentials, operator_key, sign_every_s=settings.audit_sign_s)
    return create_app(settings, view, audit=audit, services=(audit, feed))


def serve(settings: HubSettings) -> None:
    """Run the API in the foreground until interrupted."""
    app = build_app(settings)
    if not port_is_free(settings.api_host, settings.api_port):
        raise PortInUseError(settings.api_host, settings.api_port, "OBSHUB_API_PORT")
    log.info("access api listening url=%s", settings.api_url)
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # keep the entry point's logging
        access_log=False,
        lifespan="on",
    )

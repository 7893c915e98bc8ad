"""The consented-access layer's HTTP API.

- `hub.api.view`       — `IndicatorRow`, `IndicatorView`: the latest rows per key (pure)
- `hub.api.feed`       — `IndicatorFeed`: fills a view from the `indicators` topic
- `hub.api.tokens`     — `TokenStore`: bearer tokens, stored as scrypt hashes
- `hub.api.governance` — `Governance`: consent at request time, files re-read on change
- `hub.api.auditing`   — `access_event`, `KafkaAuditSink`, `MemoryAuditSink`
- `hub.api.access`     — `AccessGate`: authenticate, decide, count and audit (no HTTP)
- `hub.api.models`     — the JSON answers' shapes (OpenAPI)
- `hub.api.errors`     — `AccessError` and its subclasses
- `hub.api.shapes`     — `Shapes`: IRIS and commune polygons for GeoJSON
- `hub.api.render`     — rows as JSON, CSV and GeoJSON (pure)
- `hub.api.app`        — `create_app(settings, view, audit=…)`: the FastAPI app
- `hub.api.server`     — `build_app(settings)`, `serve(settings)`: production wiring
"""

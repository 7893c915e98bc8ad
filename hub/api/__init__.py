"""The consented-access layer's HTTP API.

- `hub.api.view`       — `ReleaseView`: the register and the current release per period (pure)
- `hub.api.feed`       — `ReleaseFeed`: fills a view from the `hub.releases` topic
- `hub.api.tokens`     — `TokenStore`: bearer tokens, stored as scrypt hashes
- `hub.api.governance` — `Governance`: consent at request time, files re-read on change
- `hub.api.auditing`   — `KafkaAuditSink` (the API's audit chain), `MemoryAuditSink`
- `hub.api.access`     — `AccessGate`: authenticate, decide, count and audit (no HTTP)
- `hub.api.models`     — the JSON answers' shapes (OpenAPI)
- `hub.api.errors`     — `AccessError` and its subclasses
- `hub.api.shapes`     — `Shapes`: IRIS and commune polygons for GeoJSON
- `hub.api.render`     — a release as JSON, CSV and GeoJSON; register entries (pure)
- `hub.api.app`        — `create_app(settings, view, audit=…)`: the FastAPI app
- `hub.api.server`     — `build_app(settings)`, `serve(settings)`: production wiring
"""

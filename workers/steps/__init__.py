"""The pipeline steps: what each broker message does (ingest, route, deliver, SLA firing)."""

"""Tracing's settings, from the standard OTEL_* variables, and the provider made from them."""

from __future__ import annotations

import re

import pytest
from opentelemetry.trace import SpanKind, set_span_in_context

from gateway.settings import Settings, SettingsError, Tracing
from gateway.tracing import tracer_provider


@pytest.mark.parametrize("environ", [
    {},
    {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
    {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
    {"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"},
    {"OTEL_SERVICE_NAME": "shop", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},  # names, but nowhere to send
])
def test_tracing_is_off_unless_an_exporter_or_an_endpoint_is_named(environ: dict[str, str]):
    # given / when
    settings = Settings.from_env({"JIMU_ENV": "development", **environ})

    # then
    assert settings.tracing is None


@pytest.mark.parametrize(("environ", "expected"), [
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, Tracing(("otlp",), "http://collector:4318/v1/traces")),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318/"}, Tracing(("otlp",), "https://collector:4318/v1/traces")),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:9/spans"},
     Tracing(("otlp",), "http://b:9/spans")),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, Tracing(("otlp",), "http://localhost:4318/v1/traces")),
    ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "jimu-eu"},
     Tracing(("console",), "http://localhost:4318/v1/traces", "jimu-eu")),
    ({"OTEL_TRACES_EXPORTER": "otlp, console", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
     Tracing(("otlp", "console"), "http://localhost:4318/v1/traces")),
    ({"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/v1/traces"},
     Tracing(("otlp",), "http://b:4318/v1/traces")),
])
def test_tracing_reads_the_standard_variables(environ: dict[str, str], expected: Tracing):
    # given / when
    settings = Settings.from_env({"JIMU_ENV": "development", **environ})

    # then
    assert settings.tracing == expected


@pytest.mark.parametrize(("environ", "said"), [
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER must be otlp, console or none"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "http/protobuf here, not 'grpc'"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
     "not 'http/json'"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https://"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://c"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http://"),
])
def test_tracing_settings_that_cannot_work_are_refused_at_start(environ: dict[str, str], said: str):
    # given / when / then
    with pytest.raises(SettingsError, match=re.escape(said)):
        Settings.from_env({"JIMU_ENV": "development", **environ})


def test_the_provider_names_the_service_and_starts_traces_at_requests_only():
    # given a worker's provider
    provider = tracer_provider(Tracing(("console",), service_name="jimu-eu"))
    tracer = provider.get_tracer("test")

    # when spans start: a request, a statement inside it, and a statement outside any (the sweeper's)
    request = tracer.start_span("POST /graphql", kind=SpanKind.SERVER)
    inside = tracer.start_span("SELECT", kind=SpanKind.CLIENT, context=set_span_in_context(request))
    outside = tracer.start_span("SELECT", kind=SpanKind.CLIENT)

    # then only the orphan statement records nothing
    try:
        assert provider.resource.attributes["service.name"] == "jimu-eu"
        assert (request.is_recording(), inside.is_recording(), outside.is_recording()) == (True, True, False)
    finally:
        provider.shutdown()

"""The spec's enums: members, values and iteration."""

from elf_resilience import FallbackStrategy, HealthStatus, ResourceStatus, ResourceType


def test_resource_types_are_the_specs_eight_in_order():
    assert [t.name for t in ResourceType] == [
        "API_QUOTA", "MEMORY", "CPU", "DATABASE", "MCP_SERVER", "NETWORK", "DOCKER", "K8S_POD",
    ]
    assert ResourceType.API_QUOTA.value == "api_quota"
    assert ResourceType.K8S_POD.value == "k8s_pod"
    assert ResourceType("mcp_server") is ResourceType.MCP_SERVER


def test_resource_status_values_are_lowercase_names():
    assert [s.value for s in ResourceStatus] == ["healthy", "warning", "critical", "exhausted", "unknown"]
    status = ResourceStatus.HEALTHY
    emoji = "✅" if status.value == "healthy" else "⚠️" if status.value == "warning" else "❌"
    assert emoji == "✅"


def test_fallback_strategies_are_in_the_specs_order():
    assert [s.name for s in FallbackStrategy] == [
        "RETRY", "SWITCH_PROVIDER", "DEGRADE_SERVICE", "QUEUE_REQUEST", "USE_CACHE", "CIRCUIT_BREAK", "LOAD_SHED",
    ]


def test_health_statuses():
    assert {s.name for s in HealthStatus} == {"HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN"}
    assert HealthStatus.UNHEALTHY.value == "unhealthy"


def test_members_print_in_a_status_table():
    line = f"{ResourceType.API_QUOTA.value:15} {ResourceStatus.WARNING.value:10} {72.5:5.1f}%"
    assert line == "api_quota       warning     72.5%"


def test_the_type_stubs_match_the_runtime_enums():
    import ast
    import pathlib

    import elf_resilience._enums as runtime

    stub = ast.parse((pathlib.Path(runtime.__file__).parent / "_enums.pyi").read_text())
    for cls in (n for n in stub.body if isinstance(n, ast.ClassDef)):
        declared = [(a.targets[0].id, a.value.value) for a in cls.body if isinstance(a, ast.Assign)]
        assert declared == [(m.name, m.value) for m in getattr(runtime, cls.name)], cls.name

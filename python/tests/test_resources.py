"""The spec's resource manager examples, with `from elf_resilience import ...`."""

import pytest

from elf_resilience import ResourceManager, ResourceStatus, ResourceType


def test_check_resource_and_switch_model_when_critical(capsys):
    rm = ResourceManager()
    rm.set_resource_status(ResourceType.API_QUOTA, ResourceStatus.CRITICAL, 95.0)

    status, usage_pct = rm.check_resource(
        ResourceType.API_QUOTA,
        context={"team_name": "marketing-team", "model": "gpt-4"},
    )
    assert (status, usage_pct) == (ResourceStatus.CRITICAL, 95.0)

    if status == ResourceStatus.CRITICAL:
        alt = rm.get_alternative_resource(ResourceType.API_QUOTA, context={"model": "gpt-4"})
        print(f"Switch to: {alt['model']}")
    assert capsys.readouterr().out == "Switch to: claude-3-opus\n"


def test_no_alternative_for_an_unknown_model():
    rm = ResourceManager(refresh=False)
    assert rm.get_alternative_resource(ResourceType.API_QUOTA, context={"model": "my-local-llm"}) is None
    custom = ResourceManager(refresh=False, model_alternatives={"my-local-llm": ["gpt-4o-mini"]})
    assert custom.get_alternative_resource(ResourceType.API_QUOTA, context={"model": "my-local-llm"})["name"] == "gpt-4o-mini"


def test_can_use_resource_follows_the_status():
    rm = ResourceManager(critical_thresholds={ResourceType.MEMORY: 100})
    assert rm.can_use_resource(ResourceType.MEMORY)
    rm.set_resource_status(ResourceType.MEMORY, ResourceStatus.EXHAUSTED)
    assert not rm.can_use_resource(ResourceType.MEMORY)
    assert rm.reading(ResourceType.MEMORY)["reason"] == "forced by set_resource_status"
    rm.clear_resource_status(ResourceType.MEMORY)
    assert rm.can_use_resource(ResourceType.MEMORY)


def test_record_usage_shows_in_the_report():
    rm = ResourceManager()
    rm.record_usage(
        ResourceType.API_QUOTA,
        amount=1000,  # tokens
        context={"team_name": "marketing-team"},
    )
    report = rm.get_resource_report(hours=24)
    assert report["usage_by_team"] == {"marketing-team": 1000.0}
    api = next(r for r in report["resources"] if r["resource_type"] == "api_quota")
    assert api["recorded_usage"] == 1000.0


def test_report_has_the_specs_system_block():
    rm = ResourceManager()
    report = rm.get_resource_report()
    lines = [
        f"CPU: {report['system']['cpu_count']} cores",
        f"Memory: {report['system']['memory_total_gb']:.1f} GB",
        f"Disk: {report['system']['disk_usage_percent']:.1f}% used",
    ]
    assert report["system"]["cpu_count"] >= 1
    assert report["system"]["memory_total_gb"] > 0
    assert 0 <= report["system"]["disk_usage_percent"] <= 100
    assert lines[0].endswith("cores")
    assert [r["resource_type"] for r in report["resources"]] == [t.value for t in ResourceType]


def test_custom_thresholds_decide_the_status():
    rm = ResourceManager(
        warning_thresholds={ResourceType.MEMORY: 0.001, ResourceType.API_QUOTA: 70, ResourceType.CPU: 85},
        critical_thresholds={ResourceType.MEMORY: 99.999, ResourceType.API_QUOTA: 90, ResourceType.CPU: 98},
    )
    status, usage = rm.check_resource(ResourceType.MEMORY)
    assert status == ResourceStatus.WARNING, (status, usage)
    with pytest.raises(ValueError, match="threshold"):
        ResourceManager(warning_thresholds={ResourceType.CPU: 95}, critical_thresholds={ResourceType.CPU: 90})


def test_without_probes_everything_reads_unknown():
    rm = ResourceManager(default_probes=False)
    for resource_type in ResourceType:
        assert rm.check_resource(resource_type) == (ResourceStatus.UNKNOWN, 0.0)
        assert rm.can_use_resource(resource_type), "unknown never stops work"


def test_status_report_script():
    rm = ResourceManager()
    lines = []
    for resource_type in ResourceType:
        status, usage = rm.check_resource(resource_type)
        emoji = "✅" if status.value == "healthy" else "⚠️" if status.value == "warning" else "❌"
        lines.append(f"{emoji} {resource_type.value:15} {status.value:10} {usage:5.1f}%")
    assert len(lines) == 8
    assert lines[0].split()[1] == "api_quota"
    assert ResourceManager(refresh=False).probe_names(ResourceType.MEMORY)[0] == "host"

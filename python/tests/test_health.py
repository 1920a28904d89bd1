"""The spec's health monitor examples, with `from elf_resilience import ...`."""

import asyncio

import pytest

from elf_resilience import HealthCheck, HealthCheckResult, HealthMonitor, HealthStatus


class FakeDB:
    def __init__(self, active, maximum):
        self.active, self.maximum, self.closed = active, maximum, 0

    def get_active_connections(self):
        return self.active

    def get_max_connections(self):
        return self.maximum

    async def close_idle_connections(self):
        self.closed += self.active // 2
        self.active -= self.active // 2


async def eventually(predicate, seconds=5.0):
    """Yields to the loop until `predicate()` holds (bounded)."""
    for _ in range(int(seconds / 0.01)):
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def test_spec_usage_example():
    slack = []

    def send_slack_alert(result):
        slack.append(result)

    db = FakeDB(active=10, maximum=100)

    async def main():
        # Initialize monitor
        monitor = HealthMonitor(alert_callback=lambda result: send_slack_alert(result))

        # Register default checks (CPU, memory, disk, API quota)
        names = monitor.register_default_checks()
        assert "disk" in names and "memory" in names

        # Add custom health check
        async def check_database_connections():
            active = db.get_active_connections()
            max_connections = db.get_max_connections()
            return active < (max_connections * 0.8)  # Healthy if under 80%

        monitor.register_check(HealthCheck(
            name="database_connections",
            check_func=check_database_connections,
            interval=60,         # Check every minute
            timeout=10,          # 10 second timeout
            critical=True,       # Affects overall health
        ))

        # Start monitoring
        await monitor.start_monitoring()
        try:
            result = await monitor.run_check_now("database_connections")
            assert result.status == HealthStatus.HEALTHY

            # Get current health
            db_status = monitor.get_health_status("database_connections")
            assert db_status == HealthStatus.HEALTHY
            assert isinstance(monitor.get_health_status(), HealthStatus)  # Overall status

            # Get detailed report
            report = monitor.get_health_report()
            lines = []
            for check_name, details in report["checks"].items():
                lines.append(f"{check_name}: {details['status']} - {details['message']}")
            assert "database_connections: healthy - check passed" in lines

            # Run check immediately
            db.active = 95
            result = await monitor.run_check_now("database_connections")
            if result.status == HealthStatus.UNHEALTHY:
                # Take corrective action
                await db.close_idle_connections()
            assert db.closed == 47
            await monitor.alerts_idle()
            assert slack == [], "one failure is not yet a transition (failure_threshold=3)"
            db.active = 95
            for _ in range(2):
                await monitor.run_check_now("database_connections")
            assert monitor.get_health_status("database_connections") == HealthStatus.UNHEALTHY
            assert monitor.get_health_status() == HealthStatus.UNHEALTHY
            await monitor.alerts_idle()
        finally:
            await monitor.stop_monitoring()

    asyncio.run(main())
    assert [(r.name, r.status) for r in slack] == [("database_connections", HealthStatus.UNHEALTHY)]
    assert isinstance(slack[0], HealthCheckResult) and slack[0].critical


def test_checks_run_on_their_schedule():
    runs = []

    async def main():
        monitor = HealthMonitor()

        async def ping():
            runs.append(1)
            return True

        monitor.register_check(HealthCheck(name="ping", check_func=ping, interval=0.01, timeout=1))
        await monitor.start_monitoring()
        try:
            assert await eventually(lambda: len(runs) >= 3)
            assert monitor.is_monitoring
            assert monitor.get_health_status("ping") == HealthStatus.HEALTHY
        finally:
            await monitor.stop_monitoring()
        assert not monitor.is_monitoring

    asyncio.run(main())


def test_a_slow_check_is_cut_at_its_timeout_and_cancelled():
    cancelled = []

    async def main():
        monitor = HealthMonitor()

        async def hangs():
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
            return True

        monitor.register_check(HealthCheck(name="hangs", check_func=hangs, timeout=0.05, failure_threshold=1))
        result = await monitor.run_check_now("hangs")
        assert result.status == HealthStatus.UNHEALTHY
        assert "timed out" in result.message
        assert await eventually(lambda: cancelled == [True])

    asyncio.run(main())


def test_an_exception_is_unhealthy_with_its_text():
    async def main():
        monitor = HealthMonitor()

        async def broken():
            return 1 / 0

        monitor.register_check(HealthCheck(name="broken", check_func=broken))
        result = await monitor.run_check_now("broken")
        assert result.status == HealthStatus.UNHEALTHY
        assert result.message == "ZeroDivisionError: division by zero"
        with pytest.raises(ValueError, match="no health check named `missing`"):
            await monitor.run_check_now("missing")

    asyncio.run(main())


def test_async_alert_callback_and_critical_checks():
    pages, notes = [], []

    async def send_pagerduty_alert(event):
        pages.append(event)

    async def send_slack_notification(event):
        notes.append(event)

    async def health_alert(result: HealthCheckResult):
        if result.status == HealthStatus.UNHEALTHY and result.critical:
            await send_pagerduty_alert({
                "service": result.name,
                "severity": "critical",
                "message": result.message,
            })
        elif result.status == HealthStatus.DEGRADED:
            await send_slack_notification({
                "channel": "#infrastructure",
                "text": f"Service degraded: {result.name}",
            })

    async def main():
        monitor = HealthMonitor(alert_callback=health_alert)

        async def critical_api():
            return False

        async def optional_feature():
            return HealthStatus.DEGRADED, "slow responses"

        monitor.register_check(HealthCheck(name="critical_api", check_func=critical_api, critical=True,
                                           timeout=30, interval=300, failure_threshold=1))
        monitor.register_check(HealthCheck(name="optional_feature", check_func=optional_feature,
                                           timeout=5, interval=3600, failure_threshold=1))
        await monitor.run_check_now("optional_feature")
        assert monitor.get_health_status() == HealthStatus.DEGRADED
        await monitor.run_check_now("critical_api")
        await monitor.alerts_idle()
        assert monitor.get_health_status() == HealthStatus.UNHEALTHY

    asyncio.run(main())
    assert pages == [{"service": "critical_api", "severity": "critical", "message": "check failed"}]
    assert notes == [{"channel": "#infrastructure", "text": "Service degraded: optional_feature"}]


def test_a_failing_non_critical_check_degrades_the_whole():
    async def main():
        monitor = HealthMonitor()

        async def ok():
            return True

        async def flaky():
            return False

        monitor.register_check(HealthCheck(name="core", check_func=ok, critical=True))
        monitor.register_check(HealthCheck(name="extra", check_func=flaky, failure_threshold=1))
        await monitor.run_check_now("core")
        await monitor.run_check_now("extra")
        assert monitor.get_health_status("extra") == HealthStatus.UNHEALTHY
        assert monitor.get_health_status() == HealthStatus.DEGRADED

    asyncio.run(main())


def test_a_sync_check_function_and_a_dropped_monitor():
    async def main():
        monitor = HealthMonitor()
        monitor.register_check(HealthCheck(name="sync", check_func=lambda: ("degraded", "half the replicas")))
        result = await monitor.run_check_now("sync")
        assert (result.status, result.message) == (HealthStatus.DEGRADED, "half the replicas")
        monitor.register_check(HealthCheck(name="busy", check_func=lambda: True, interval=0.001))
        await monitor.start_monitoring()
        await asyncio.sleep(0.01)
        del monitor  # dropped while running: must neither hang nor crash

    asyncio.run(asyncio.wait_for(main(), timeout=10))

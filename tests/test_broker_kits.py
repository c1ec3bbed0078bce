"""The real-broker tests never pass silently: a missing or broken broker fails them in CI.

The kits of ``tests/test_mosquitto_dynsec.py`` and ``tests/test_rabbitmq_connections.py``
skip with a reason on a laptop without the broker, and fail under
``GATEHOUSE_TEST_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.processes import free_port
from tests.kit import mosquitto, rabbitmq
from tests.kit.mosquitto import MosquittoBroker
from tests.kit.rabbitmq import RabbitMQNode


def test_a_missing_mosquitto_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(mosquitto, "SERVER", Path("/nonexistent/mosquitto"))
    broker = MosquittoBroker(tmp_path, "", free_port(), "admin", "pw")
    monkeypatch.setenv("GATEHOUSE_TEST_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install mosquitto"):
        broker.start()
    monkeypatch.delenv("GATEHOUSE_TEST_REQUIRE_SERVICES")
    with pytest.raises(pytest.skip.Exception, match="Mosquitto is not installed"):
        broker.start()


def test_a_mosquitto_that_cannot_start_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broker = MosquittoBroker(tmp_path, "listener not-a-port\n", free_port(), "admin", "pw")
    monkeypatch.setenv("GATEHOUSE_TEST_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="did not open its port"):
        broker.start()
    assert not broker.running()


def test_a_missing_rabbitmq_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(rabbitmq, "SERVER", Path("/nonexistent/rabbitmq-server"))
    node = RabbitMQNode(tmp_path, "", "[].", free_port(), management_port=free_port())
    monkeypatch.setenv("GATEHOUSE_TEST_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="RabbitMQ is not installed"):
        node.start()
    node.output.close()

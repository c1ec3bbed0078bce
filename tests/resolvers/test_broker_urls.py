"""The brokers' admin URLs: read once, checked, and never shown with their password."""

from __future__ import annotations

import pytest

from graph.settings import Settings, SettingsError
from resolvers.broker_urls import mosquitto_login, rabbitmq_management_login


def test_a_mosquitto_url_gives_the_admin_login_percent_decoded() -> None:
    login = mosquitto_login("mqtt://gatehouse-admin:p%40ss%3Aw%2Frd@broker.internal:1884")
    assert (login.host, login.port, login.username) == ("broker.internal", 1884, "gatehouse-admin")
    assert login.password == "p@ss:w/rd"
    assert not login.tls
    assert login.shown() == "mqtt://gatehouse-admin@broker.internal:1884"
    assert "p@ss" not in repr(login)


def test_default_ports_and_tls() -> None:
    assert mosquitto_login("mqtt://a:b@h").port == 1883
    secure = mosquitto_login("mqtts://a:b@h")
    assert (secure.port, secure.tls) == (8883, True)
    management = rabbitmq_management_login("http://a:b@[::1]/rabbitmq/")
    assert management.port == 15672
    assert management.base_url == "http://[::1]:15672/rabbitmq"
    assert management.shown() == "http://a@[::1]:15672/rabbitmq"


@pytest.mark.parametrize(
    "url",
    [
        "http://a:secret-1@h:1883",  # the wrong scheme
        "mqtt://h:1883",  # no login
        "mqtt://a@h:1883",  # no password
        "mqtt://a:secret-1@:1883",  # no host
        "mqtt://a:secret-1@h:99999",  # no port like that
        "mqtt://a:secret-1@h:1883/x",  # a path
        "mqtt://a:secret-1@h:1883?x=1",
    ],
)
def test_a_bad_mosquitto_url_stops_the_server_without_showing_the_password(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("GATEHOUSE_MOSQUITTO_URL", url)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert "GATEHOUSE_MOSQUITTO_URL" in str(raised.value)
    assert "secret-1" not in str(raised.value)


def test_a_bad_management_url_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_RABBITMQ_MANAGEMENT_URL", "amqp://a:secret-2@h")
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert "GATEHOUSE_RABBITMQ_MANAGEMENT_URL" in str(raised.value)
    assert "secret-2" not in str(raised.value)


def test_the_settings_never_show_the_urls() -> None:
    settings = Settings(
        mosquitto_url="mqtt://a:secret-3@h:1883",
        rabbitmq_management_url="http://a:secret-4@h:15672",
    )
    assert "secret-3" not in repr(settings) and "secret-4" not in repr(settings)

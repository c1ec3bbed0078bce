"""What one app's surfaces share: settings, the login caches, the event hub, the gatekeeper,
the throttles.

``create_app`` builds one :class:`Services` and hands it to every surface's
``routes(services)``; nothing here is process-global.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.http.gate import Gatekeeper
from graph.settings import Settings
from resolvers.auth import Authenticator
from resolvers.device_logins import DeviceLogins
from resolvers.live import EventHub
from resolvers.throttling import Throttles


@dataclass(frozen=True)
class Services:
    settings: Settings
    authenticator: Authenticator
    hub: EventHub
    gate: Gatekeeper
    #: Answers the brokers' and gateways' device callbacks (API.md §6).
    device_logins: DeviceLogins
    throttles: Throttles

"""FastAPI dependencies of the notification API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.clock import Clock
from notification_service.adapters.rendering import Renderer


@dataclass(frozen=True)
class Notifications:
    """What the routes work with (``app.state.notifications``)."""

    engine: AsyncEngine
    clock: Clock
    renderer: Renderer


def _notifications(request: Request) -> Notifications:
    notifications: Notifications = request.app.state.notifications
    return notifications


NotificationsDep = Annotated[Notifications, Depends(_notifications)]

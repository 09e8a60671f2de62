"""Signing in: Django's model backend, reading the login's holder with the login itself."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class HolderAwareModelBackend(ModelBackend):
    """Every signed-in page reads the session's login and then the holder it acts for
    (holders.selectors.holder_for): one query instead of two, on every portal page."""

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("holder").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

"""Governance: the policy, transitions and approvals, rollback, risk, comments."""

from __future__ import annotations

from typing import Any

from modelyard.client._http import Http
from modelyard.domain.policy import Policy
from modelyard.domain.policy_document import parse_policy

API = "/api/v1"


def _policy(data: dict[str, Any]) -> Policy:
    return parse_policy(data["policy"], data["source"])


class GovernanceMixin:
    _http: Http

    def get_policy(self) -> Policy:
        """The policy the server enforces (its file, or the built-in one)."""
        return self._http.call("GET", f"{API}/policy", _policy)

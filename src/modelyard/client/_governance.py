"""Governance: the policy, transitions and votes, rollback, comments. (The risk level is set
with ``set_model_risk``, in ``_models.py``.)"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from modelyard.client._http import Http, segment
from modelyard.client._models import model_path
from modelyard.client._pages import every_item
from modelyard.domain.comments import Comment
from modelyard.domain.policy import NamespacePolicy, Policy
from modelyard.domain.policy_document import parse_override, parse_policy
from modelyard.domain.records import Page
from modelyard.domain.references import RefKind, parse_reference
from modelyard.domain.transitions import ApprovalNeed, CheckOutcome, Transition, Vote

API = "/api/v1"


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _policy(data: dict[str, Any]) -> Policy:
    return parse_policy(data["policy"], data["source"])


def _namespace_policy(data: dict[str, Any]) -> NamespacePolicy:
    effective = parse_policy(data["effective"], f"namespace {data['namespace']}")
    override = data.get("override")
    return NamespacePolicy(
        data["namespace"],
        parse_override(override, effective) if override is not None else None,
        effective,
        data.get("updated_by", ""),
        _time(data.get("updated_at")),
    )


def _vote(v: dict[str, Any]) -> Vote:
    return Vote(
        v["voter"], v["capacity"], v["decision"], v["comment"], v["risk_level"],
        v["manifest_digest"], datetime.fromisoformat(v["cast_at"]), _time(v.get("superseded_at")),
    )  # fmt: skip


def transition(data: dict[str, Any]) -> Transition:
    return Transition(
        id=data["id"], namespace=data["namespace"], name=data["name"], version=data["version"],
        kind=data["kind"], from_stage=data["from_stage"], to_stage=data["to_stage"],
        status=data["status"], reason=data["reason"], risk_level=data["risk_level"],
        manifest_digest=data["manifest_digest"], requested_by=data["requested_by"],
        created_at=datetime.fromisoformat(data["created_at"]),
        expires_at=datetime.fromisoformat(data["expires_at"]),
        approvals=[ApprovalNeed(a["capacity"], a["needed"], tuple(a["given"]))
                   for a in data["approvals"]],
        checks=[CheckOutcome.from_dict(c) for c in data["checks"]],
        votes=[_vote(v) for v in data["votes"]],
        closed_at=_time(data.get("closed_at")), closed_by=data.get("closed_by", ""),
        close_reason=data.get("close_reason", ""), replaced_version=data.get("replaced_version"),
    )  # fmt: skip


def _comment(data: dict[str, Any]) -> Comment:
    return Comment(
        data["id"], data["namespace"], data["name"], data["version"], data["author"],
        data["body"], datetime.fromisoformat(data["created_at"]),
    )  # fmt: skip


def _page(data: dict[str, Any], item: Any) -> Page[Any]:
    return Page([item(x) for x in data["items"]], data.get("next_page_token"))


class GovernanceMixin:
    _http: Http

    # ------------------------------------------------------------------ policy

    def get_policy(self) -> Policy:
        """The policy the server enforces (its file, or the built-in one)."""
        return self._http.call("GET", f"{API}/policy", _policy)

    def get_namespace_policy(self, namespace: str) -> NamespacePolicy:
        """The namespace's override (``None``: it has none) and the policy in force there."""
        path = f"{API}/namespaces/{segment(namespace)}/policy"
        return self._http.call("GET", path, _namespace_policy)

    def set_namespace_policy(
        self, namespace: str, override: str | Mapping[str, Any]
    ) -> NamespacePolicy:
        """Tighten the server's policy in ``namespace`` (YAML text or a mapping). Raises
        ``InvalidInputError``: POLICY_INVALID, or POLICY_LOOSENS naming what would loosen."""
        body = {"yaml": override} if isinstance(override, str) else {"policy": dict(override)}
        path = f"{API}/namespaces/{segment(namespace)}/policy"
        return self._http.call("PUT", path, _namespace_policy, json=body)

    def remove_namespace_policy(self, namespace: str) -> NamespacePolicy:
        path = f"{API}/namespaces/{segment(namespace)}/policy"
        return self._http.call("DELETE", path, _namespace_policy)

    # ------------------------------------------------------------------ transitions

    def request_transition(self, reference: str, stage: str, reason: str) -> Transition:
        """Ask to move ``namespace/name@REF`` to ``stage``: ``applied`` at once when the
        policy needs no approval, else ``pending``. Raises ``ConflictError`` with
        TRANSITION_REFUSED, CHECKS_FAILED, TRANSITION_NOT_ALLOWED, TRANSITION_PENDING…"""
        parse_reference(reference)
        body = {"reference": reference, "stage": stage, "reason": reason}
        return self._http.call("POST", f"{API}/transitions", transition, json=body)

    promote = request_transition

    def get_transition(self, transition_id: int) -> Transition:
        return self._http.call("GET", f"{API}/transitions/{int(transition_id)}", transition)

    def list_transitions(
        self,
        status: str | None = None,
        namespace: str | None = None,
        model: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Transition]:
        """One page of transitions you may read, newest first. ``status``: pending, applied,
        rejected, cancelled or expired; ``model``: ``namespace/name``."""
        params = {"status": status, "namespace": namespace, "model": model,
                  "page_size": page_size, "page_token": page_token}  # fmt: skip
        decode = partial(_page, item=transition)
        return self._http.call("GET", f"{API}/transitions", decode, params=params)

    def iter_transitions(
        self,
        status: str | None = None,
        namespace: str | None = None,
        model: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Transition]:
        fetch = partial(self.list_transitions, status, namespace, model, page_size)
        return every_item(fetch)

    def approve(self, transition_id: int, comment: str, capacity: str | None = None) -> Transition:
        """Approve as ``capacity`` (left out: the one you hold that fits). The requester
        cannot (ForbiddenError SELF_APPROVAL); the same vote twice counts once."""
        return self._vote(transition_id, "approve", comment, capacity)

    def reject(self, transition_id: int, comment: str, capacity: str | None = None) -> Transition:
        """Reject: the request is closed."""
        return self._vote(transition_id, "reject", comment, capacity)

    def _vote(
        self, transition_id: int, decision: str, comment: str, capacity: str | None
    ) -> Transition:
        body: dict[str, Any] = {"decision": decision, "comment": comment}
        if capacity is not None:
            body["capacity"] = capacity
        path = f"{API}/transitions/{int(transition_id)}/approvals"
        return self._http.call("POST", path, transition, json=body)

    def cancel_transition(self, transition_id: int, reason: str) -> Transition:
        path = f"{API}/transitions/{int(transition_id)}/cancel"
        return self._http.call("POST", path, transition, json={"reason": reason})

    def apply_transition(self, transition_id: int) -> Transition:
        """Apply a request whose approvals are in but which a check held back (fixed since)."""
        path = f"{API}/transitions/{int(transition_id)}/apply"
        return self._http.call("POST", path, transition)

    def rollback(self, name: str, reason: str, stage: str | None = None) -> Transition:
        """Return ``namespace/name``'s production (or ``stage``) to the previous version."""
        body: dict[str, Any] = {"reason": reason}
        if stage is not None:
            body["stage"] = stage
        return self._http.call("POST", model_path(name) + "/rollback", transition, json=body)

    # ------------------------------------------------------------------ comments

    def _comments_path(self, target: str) -> str:
        """``ns/name`` -> the model's comments; ``ns/name@REF`` -> that version's."""
        if "@" not in target:
            return model_path(target) + "/comments"
        ref = parse_reference(target)
        number = ref.value if ref.kind is RefKind.NUMBER else self._number(target)
        return f"{model_path(ref.model)}/versions/{number}/comments"

    def _number(self, reference: str) -> int:
        version = self._http.call("GET", f"{API}/resolve", lambda d: d, params={"ref": reference})
        return int(version["version"])

    def add_comment(self, target: str, body: str) -> Comment:
        """Comment on a model (``ns/name``) or a version (``ns/name@REF``)."""
        return self._http.call("POST", self._comments_path(target), _comment, json={"body": body})

    def list_comments(
        self, target: str, page_size: int | None = None, page_token: str | None = None
    ) -> Page[Comment]:
        """Oldest first; a model's list holds its versions' comments too."""
        params = {"page_size": page_size, "page_token": page_token}
        decode = partial(_page, item=_comment)
        return self._http.call("GET", self._comments_path(target), decode, params=params)

    def iter_comments(self, target: str, page_size: int | None = None) -> Iterator[Comment]:
        path = self._comments_path(target)
        decode = partial(_page, item=_comment)

        def fetch(token: str | None) -> Page[Comment]:
            params = {"page_size": page_size, "page_token": token}
            return self._http.call("GET", path, decode, params=params)

        return every_item(fetch)

"""The server's policy: MODELYARD_POLICY_FILE, else the built-in one, read and validated once
when the app is built (and by ``modelyard serve`` before it starts anything), so a broken
policy stops the start with a clear message instead of surfacing on the first promotion.

Light on purpose: ``modelyard serve`` imports it before it has loaded the rest of the server.
"""

from __future__ import annotations

from modelyard.domain.policy import Policy, PolicyError
from modelyard.domain.policy_document import default_policy, parse_policy
from modelyard.settings import Settings


def read_policy_file(path: str) -> Policy:
    """The policy in the YAML file ``path`` (``""``: the built-in policy)."""
    if not path:
        return default_policy()
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([("", f"cannot read the policy file: {exc}")], path) from None
    return parse_policy(text, path)


def server_policy(settings: Settings) -> Policy:
    """The policy this server enforces; POLICY_INVALID when the file is unreadable, malformed,
    or asks for approvals in a capacity the server does not define."""
    policy = read_policy_file(settings.policy_file)
    policy.check_capacities(settings.capacities)
    return policy

from __future__ import annotations

from tests import gitrepo

repo = gitrepo.repo

"""Dataset references and classifications."""

from __future__ import annotations

import pytest

from modelyard.domain.datasets import DatasetRef, check_classifications, parse_dataset_ref
from modelyard.domain.errors import InvalidInputError


def test_reference_with_a_version() -> None:
    assert parse_dataset_ref("risk-team/transactions@2026-10") == DatasetRef(
        "risk-team", "transactions", "2026-10"
    )


def test_reference_without_a_version_means_the_newest() -> None:
    ref = parse_dataset_ref("risk-team/transactions")
    assert ref.version is None
    assert str(ref) == "risk-team/transactions"


@pytest.mark.parametrize(
    "text", ["transactions", "a/b/c", "Risk/x@1", "a/b@", "a/b@-1", "a/b@x y", "a/b@1\n"]
)
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_dataset_ref(text)
    assert caught.value.code == "REFERENCE_INVALID"


def test_classifications_are_sorted_and_deduplicated() -> None:
    assert check_classifications(["pii", "confidential", "pii"]) == ("confidential", "pii")


@pytest.mark.parametrize("bad", ["PII", "p ii", "", "x" * 33, "-pii"])
def test_malformed_classifications_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        check_classifications([bad])

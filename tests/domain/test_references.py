from __future__ import annotations

import hashlib

import pytest

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.lifecycle import MAX_VERSION_NUMBER
from modelyard.domain.references import RefKind, parse_model_name, parse_reference

DIGEST = "sha256:" + hashlib.sha256(b"manifest").hexdigest()


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("risk-team/fraud", RefKind.LATEST, "latest"),
        ("risk-team/fraud@latest", RefKind.LATEST, "latest"),
        ("risk-team/fraud@1", RefKind.NUMBER, "1"),
        ("risk-team/fraud@42", RefKind.NUMBER, "42"),
        (f"risk-team/fraud@{MAX_VERSION_NUMBER}", RefKind.NUMBER, str(MAX_VERSION_NUMBER)),
        ("risk-team/fraud@champion", RefKind.ALIAS, "champion"),
        ("risk-team/fraud@blue-green_2", RefKind.ALIAS, "blue-green_2"),
        ("risk-team/fraud@development", RefKind.STAGE, "development"),
        ("risk-team/fraud@staging", RefKind.STAGE, "staging"),
        ("risk-team/fraud@production", RefKind.STAGE, "production"),
        ("risk-team/fraud@archived", RefKind.STAGE, "archived"),
        (f"risk-team/fraud@{DIGEST}", RefKind.DIGEST, DIGEST),
    ],
)
def test_parse_reference_recognises_every_kind(text: str, kind: RefKind, value: str) -> None:
    ref = parse_reference(text)
    assert (ref.namespace, ref.name) == ("risk-team", "fraud")
    assert (ref.kind, ref.value) == (kind, value)
    assert ref.model == "risk-team/fraud"


def test_reference_renders_with_its_value() -> None:
    assert str(parse_reference("a/b@7")) == "a/b@7"
    assert str(parse_reference("a/b")) == "a/b@latest"


def test_custom_stages_are_recognised_as_stages() -> None:
    ref = parse_reference("a/b@canary", stages=("canary", "production"))
    assert ref.kind is RefKind.STAGE
    assert parse_reference("a/b@staging", stages=("canary",)).kind is RefKind.ALIAS


@pytest.mark.parametrize(
    "text",
    [
        "",
        "fraud",
        "@1",
        "/fraud",
        "team/",
        "a/b/c",
        "Team/fraud",
        "team/Fraud",
        "team/fr aud",
        "team/a..b",
        "team/fraud@",
        "team/fraud@0",
        "team/fraud@00",
        "team/fraud@-1",
        "team/fraud@1.5",
        f"team/fraud@{MAX_VERSION_NUMBER + 1}",
        "team/fraud@99999999999",
        "team/fraud@" + "9" * 5000,
        "team/fraud@Champion",
        "team/fraud@LATEST",
        "team/fraud@Production",
        "team/fraud@1champion",
        "team/fraud@champ ion",
        "team/fraud@@champion",
        "team/fraud@champion\n",
        "team/fraud@sha256:",
        "team/fraud@sha256:abc",
        "team/fraud@" + DIGEST.upper(),
        "team/fraud@sha256:" + "g" * 64,
        "team/fraud@sha256:" + "a" * 63,
        "team/fraud@sha256:" + "a" * 65,
        "team/fraud@" + DIGEST + "\n",
        "team/fraud@sha512:" + "a" * 128,
        "team/fraud@\u0661",  # Arabic-Indic digit one: a digit, but not a version number
    ],
)
def test_parse_reference_refuses_malformed_references(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_reference(text)
    assert info.value.code == "REFERENCE_INVALID"
    assert info.value.details == {"reference": text}


def test_invalid_reference_message_shows_the_expected_form() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_reference("nope")
    assert "namespace/name[@" in info.value.message


def test_parse_model_name_splits_and_checks_both_parts() -> None:
    assert parse_model_name("risk-team/fraud.v2") == ("risk-team", "fraud.v2")
    with pytest.raises(InvalidInputError) as info:
        parse_model_name("risk-team/Fraud")
    assert info.value.code == "NAME_INVALID"
    with pytest.raises(InvalidInputError) as info:
        parse_model_name("risk-team")
    assert info.value.code == "REFERENCE_INVALID"

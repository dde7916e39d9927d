"""The four ingredients: parsing, credential stripping, package names, completeness."""

from __future__ import annotations

import pytest

from modelyard.domain.digests import digest_of
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.ingredients import (
    Ingredients,
    completeness,
    normalise_package,
    strip_credentials,
)

DIFF = digest_of(b"diff --git a/x b/x\n")
FULL = {
    "code": {"commit": "a" * 40, "branch": "main", "remote_url": "https://github.com/o/r.git"},
    "environment": {"python_version": "3.11.7", "packages": [{"name": "numpy", "version": "2.1"}]},
    "config": {"lr": 0.01},
    "data": [{"uri": "s3://bucket/train.parquet", "digest": DIFF, "role": "trained_on"}],
}


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://user:password@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://ghp_token@github.com/o/r.git", "https://github.com/o/r.git"),
        (
            "https://u:p@git.example.com:8443/o/r?private_token=x#frag",
            "https://git.example.com:8443/o/r",
        ),
        ("ssh://git:secret@[::1]:22/o/r", "ssh://[::1]:22/o/r"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
    ],
)
def test_remote_urls_lose_their_credentials(url: str, stored: str) -> None:
    assert strip_credentials(url) == stored


def test_code_remote_is_stored_without_credentials() -> None:
    code = Ingredients.parse({"code": {"commit": "abc1234", "remote_url": "https://a:b@h/r"}}).code
    assert code is not None
    assert code.remote_url == "https://h/r"


@pytest.mark.parametrize(
    ("name", "normal"),
    [("Scikit_Learn", "scikit-learn"), ("zope.interface", "zope-interface"), ("SciPy", "scipy")],
)
def test_package_names_are_normalised(name: str, normal: str) -> None:
    assert normalise_package(name) == normal


def test_a_package_listed_twice_keeps_one_row() -> None:
    env = Ingredients.parse(
        {
            "environment": {
                "packages": [{"name": "NumPy", "version": "1"}, {"name": "numpy", "version": "2"}]
            }
        }
    ).environment
    assert env is not None
    assert [(p.name, p.version) for p in env.packages] == [("numpy", "2")]


@pytest.mark.parametrize(
    "raw",
    [
        {"code": {"commit": "not-hex"}},
        {"code": {"commit": "abc1234", "diff_digest": "sha256:nope"}},
        {"environment": {"packages": [{"name": "-bad", "version": "1"}]}},
        {"environment": {"packages": "numpy"}},
        {"config": ["not", "an", "object"]},
        {"data": [{"role": "trained_on"}]},
        {"data": [{"dataset": "a/b@1", "uri": "s3://x"}]},
        {"data": [{"dataset": "a/b@1", "role": "tested_on"}]},
    ],
)
def test_malformed_ingredients_are_refused(raw: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Ingredients.parse(raw)
    assert caught.value.code in ("INGREDIENTS_INVALID", "DIGEST_INVALID")


def test_all_four_parts_make_a_complete_version() -> None:
    report = completeness(Ingredients.parse(FULL))
    assert report.complete
    assert report.present == ("code", "environment", "config", "data")


def test_nothing_recorded_is_missing_all_four() -> None:
    report = completeness(Ingredients.parse(None))
    assert not report.complete
    assert set(report.missing) == {"code", "environment", "config", "data"}


def test_dirty_code_without_a_diff_is_missing_with_the_reason() -> None:
    raw = {**FULL, "code": {"commit": "a" * 40, "dirty": True}}
    report = completeness(Ingredients.parse(raw))
    assert report.missing == {"code": "uncommitted changes were not recorded (no diff)"}
    dirty_with_diff = {**FULL, "code": {"commit": "a" * 40, "dirty": True, "diff_digest": DIFF}}
    assert completeness(Ingredients.parse(dirty_with_diff)).complete


def test_evaluation_data_alone_does_not_make_data_present() -> None:
    raw = {**FULL, "data": [{"uri": "s3://b/eval", "role": "evaluated_on"}]}
    assert set(completeness(Ingredients.parse(raw)).missing) == {"data"}


def test_an_empty_config_states_no_hyperparameters_and_counts() -> None:
    assert completeness(Ingredients.parse({**FULL, "config": {}})).complete


def test_an_environment_without_packages_is_missing() -> None:
    raw = {**FULL, "environment": {"python_version": "3.11"}}
    assert completeness(Ingredients.parse(raw)).missing == {
        "environment": "no installed packages listed"
    }

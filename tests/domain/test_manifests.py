from __future__ import annotations

import json
import unicodedata

import pytest

from modelyard.domain.digests import digest_of
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.manifests import (
    Artifact,
    build_manifest,
    check_artifact_path,
    manifest_from_json,
    media_type_for,
)

D1 = digest_of(b"one")
D2 = digest_of(b"two")


def entry(path: str, digest: str = D1, size: int = 3) -> dict[str, object]:
    return {"path": path, "size": size, "digest": digest}


@pytest.mark.parametrize(
    "path",
    [
        "model.onnx",
        "weights/part-0001.safetensors",
        "a/b/c/d.txt",
        "dir.with.dots/..hidden",
        "名前/モデル.bin",
        "with space.txt",
        "C",
    ],
)
def test_valid_paths_are_accepted(path: str) -> None:
    assert check_artifact_path(path) == path


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "non-empty"),
        ("../etc/passwd", "'..'"),
        ("a/../b", "'..'"),
        ("a/..", "'..'"),
        ("./a", "'.'"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/x.dll", "absolute"),
        ("c:relative", "absolute"),
        ("a\\b", "backslash"),
        ("\\\\server\\share", "backslash"),
        ("a\x00b", "control"),
        ("line\nbreak", "control"),
        ("tab\there", "control"),
        ("del\x7f", "control"),
        ("c1\x85", "control"),
        ("a//b", "empty path component"),
        ("a/", "empty path component"),
        ("x" * 256, "component is longer"),
        ("a/" * 600 + "b", "longer than 1024"),
    ],
)
def test_invalid_paths_are_refused_with_a_reason(path: str, reason: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        check_artifact_path(path)
    assert err.value.code == "ARTIFACT_PATH_INVALID"
    assert reason in err.value.details["reason"]


def test_non_string_path_is_refused() -> None:
    with pytest.raises(InvalidInputError) as err:
        build_manifest([{"path": 7, "size": 1, "digest": D1}])
    assert err.value.code == "ARTIFACT_PATH_INVALID"


def test_paths_are_nfc_normalised() -> None:
    decomposed = unicodedata.normalize("NFD", "café.txt")
    assert decomposed != "café.txt"
    manifest = build_manifest([entry(decomposed)])
    assert manifest.artifacts[0].path == "café.txt"


def test_duplicate_paths_are_refused() -> None:
    with pytest.raises(InvalidInputError) as err:
        build_manifest([entry("a.bin"), entry("a.bin", D2)])
    assert err.value.code == "ARTIFACT_PATH_INVALID"
    assert "duplicate" in err.value.details["reason"]


def test_paths_equal_after_normalisation_are_duplicates() -> None:
    nfd = unicodedata.normalize("NFD", "é.bin")
    with pytest.raises(InvalidInputError, match="duplicate"):
        build_manifest([entry("é.bin"), entry(nfd)])


def test_a_file_cannot_also_be_a_directory() -> None:
    with pytest.raises(InvalidInputError) as err:
        build_manifest([entry("weights"), entry("weights/a.bin")])
    assert "directory" in err.value.details["reason"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("digest", "sha256:abc", "DIGEST_INVALID"),
        ("digest", "md5:" + "0" * 32, "DIGEST_INVALID"),
        ("digest", "sha256:" + "A" * 64, "DIGEST_INVALID"),
        ("size", -1, "SIZE_INVALID"),
        ("size", True, "SIZE_INVALID"),
        ("size", "3", "SIZE_INVALID"),
        ("media_type", "not a type", "MANIFEST_INVALID"),
    ],
)
def test_bad_artifact_fields_are_refused(field: str, value: object, code: str) -> None:
    item = {**entry("a.bin"), field: value}
    with pytest.raises(InvalidInputError) as err:
        build_manifest([item])
    assert err.value.code == code


def test_digest_does_not_depend_on_input_order() -> None:
    one = build_manifest([entry("b.bin", D2), entry("a.bin")])
    two = build_manifest([entry("a.bin"), entry("b.bin", D2)])
    assert one.digest == two.digest
    assert [a.path for a in one.artifacts] == ["a.bin", "b.bin"]


def test_canonical_form_is_compact_sorted_utf8_json() -> None:
    manifest = build_manifest([entry("é.bin")])
    expected = (
        '{"artifacts":[{"digest":"' + D1 + '","media_type":"application/octet-stream",'
        '"path":"é.bin","size":3}],"schema_version":1}'
    )
    assert manifest.canonical_bytes() == expected.encode()
    assert manifest.digest == digest_of(manifest.canonical_bytes())


def test_any_change_to_an_artifact_changes_the_digest() -> None:
    base = build_manifest([entry("a.bin")]).digest
    assert build_manifest([entry("b.bin")]).digest != base
    assert build_manifest([entry("a.bin", D2)]).digest != base
    assert build_manifest([entry("a.bin", size=4)]).digest != base
    assert build_manifest([{**entry("a.bin"), "media_type": "text/plain"}]).digest != base


def test_manifest_round_trips_through_its_json() -> None:
    manifest = build_manifest([entry("x/y.bin"), entry("z.json", D2)])
    assert manifest_from_json(manifest.canonical_bytes()) == manifest


@pytest.mark.parametrize(
    "doc", [b"not json", b"[]", b'{"artifacts": 1}', b'{"artifacts": [], "schema_version": 9}']
)
def test_malformed_manifest_documents_are_refused(doc: bytes) -> None:
    with pytest.raises(InvalidInputError) as err:
        manifest_from_json(doc)
    assert err.value.code == "MANIFEST_INVALID"


def test_media_types_come_from_a_fixed_table() -> None:
    assert media_type_for("w/model.onnx") == "application/onnx"
    assert media_type_for("config.JSON") == "application/json"
    assert media_type_for(".hidden") == "application/octet-stream"
    assert media_type_for("dir.d/noext") == "application/octet-stream"


def test_totals_and_blob_digests() -> None:
    manifest = build_manifest([entry("a", size=3), entry("b", D2, size=4), entry("c", size=3)])
    assert manifest.total_size == 10
    assert manifest.blob_digests == {D1, D2}
    assert isinstance(manifest.artifacts[0], Artifact)
    assert json.loads(manifest.canonical_bytes())["schema_version"] == 1

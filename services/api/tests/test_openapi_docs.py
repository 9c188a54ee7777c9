"""The offline docs' content: every operation and every schema property of the OpenAPI document is described,
and the upload, training and prediction examples are valid against their schemas and accepted by the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from plastinka_api import examples
from plastinka_testing.app import Api, run_training

#: Schemas FastAPI adds on its own, exempt from the walk. Empty: the app answers every 422 with ErrorBody, so
#: FastAPI's HTTPValidationError and ValidationError never appear; list them here if they ever do.
EXEMPT_SCHEMAS: frozenset[str] = frozenset()

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


async def _document(api: Api) -> dict[str, Any]:
    response = await api.client(None).get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def _properties(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of a component schema, nested object schemas included."""
    for name, prop in schema.get("properties", {}).items():
        yield f"{where}.{name}", prop
        yield from _properties(prop, f"{where}.{name}")


async def test_every_operation_has_a_description(api: Api) -> None:
    document = await _document(api)
    operations = dict(_operations(document))
    assert len(operations) >= 30
    undescribed = [name for name, op in operations.items() if len(op.get("description", "").strip()) < 40]
    assert undescribed == [], f"operations without a description: {undescribed}"


async def test_every_schema_property_has_a_description(api: Api) -> None:
    schemas = (await _document(api))["components"]["schemas"]
    found = [
        (where, prop)
        for name, schema in schemas.items()
        if name not in EXEMPT_SCHEMAS
        for where, prop in _properties(schema, name)
    ]
    assert len(found) > 150
    undescribed = [where for where, prop in found if not prop.get("description", "").strip()]
    assert undescribed == [], f"schema properties without a description: {undescribed}"


def _request_examples(document: dict[str, Any], path: str, media_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = document["paths"][path]["post"]["requestBody"]["content"][media_type]
    return body["schema"], {name: example["value"] for name, example in body["examples"].items()}


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema`` whose ``#/components/...`` references resolve in the document."""
    return Draft202012Validator({**schema, "components": document["components"]})


@pytest.mark.parametrize(
    ("path", "media_type", "expected"),
    [
        ("/api/v1/datasets", "multipart/form-data", examples.UPLOAD),
        ("/api/v1/training", "application/json", examples.TRAINING),
        ("/api/v1/prediction", "application/json", examples.PREDICTION),
    ],
)
async def test_the_bodies_examples_are_in_the_document_and_valid(
    api: Api, path: str, media_type: str, expected: dict[str, dict[str, Any]]
) -> None:
    document = await _document(api)
    schema, values = _request_examples(document, path, media_type)
    assert values == {name: example["value"] for name, example in expected.items()} and len(values) >= 2
    validator = _validator(document, schema)
    for name, value in values.items():
        errors = [error.message for error in validator.iter_errors(value)]
        assert errors == [], f"{path} example {name!r}: {errors}"


def _with_ids(value: dict[str, Any], dataset_id: str, model_id: str | None = None) -> dict[str, Any]:
    """The example with its placeholder ids replaced by the caller's own."""
    ids = {examples.DATASET_ID: dataset_id, examples.MODEL_ID: model_id}
    return {key: ids.get(item, item) if isinstance(item, str) else item for key, item in value.items()}


async def test_every_example_is_accepted_by_the_api(api: Api) -> None:
    document = await _document(api)
    _, uploads = _request_examples(document, "/api/v1/datasets", "multipart/form-data")
    dataset_ids = []
    for name, value in uploads.items():
        files = {field: (f"{field}.csv", text.encode(), "text/csv") for field, text in value.items()}
        response = await api.analyst.post("/api/v1/datasets", files=files)
        assert response.status_code == 201, f"upload example {name!r}: {response.text}"
        report = response.json()["report"]
        assert report["items"] == 3 and report["dropped"] == 0, report
        dataset_ids.append(response.json()["id"])
    dataset_id = dataset_ids[0]  # sales and stock

    _, trainings = _request_examples(document, "/api/v1/training", "application/json")
    for name, value in trainings.items():
        response = await api.analyst.post("/api/v1/training", json=_with_ids(value, dataset_id))
        assert response.status_code == 202, f"training example {name!r}: {response.text}"

    _, model_id = await run_training(api, dataset_id)  # the owner's active model, as the examples assume
    _, predictions = _request_examples(document, "/api/v1/prediction", "application/json")
    for name, value in predictions.items():
        response = await api.analyst.post("/api/v1/prediction", json=_with_ids(value, dataset_id, model_id))
        assert response.status_code == 202, f"prediction example {name!r}: {response.text}"
    assert (await api.analyst.get("/api/v1/prediction")).json()["total"] == len(predictions)

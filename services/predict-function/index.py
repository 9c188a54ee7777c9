"""Yandex Cloud Functions entry point (``index.handler``, runtime python312): forecast with a stored model."""

from plastinka_predict_function import handle


def handler(event, context):  # type: ignore[no-untyped-def]  # the platform's signature
    return handle(event, context)

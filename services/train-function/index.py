"""Yandex Cloud Functions entry point (``index.handler``, runtime python312): train a forecasting model."""

from plastinka_train_function import handle


def handler(event, context):  # type: ignore[no-untyped-def]  # the platform's signature
    return handle(event, context)

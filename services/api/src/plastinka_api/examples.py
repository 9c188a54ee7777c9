"""OpenAPI request examples of the upload, training and prediction operations, shown by ``/docs`` and ``/redoc``.

Each is a whole request the API accepts (``services/api/tests/test_openapi_docs.py`` sends every one): the sales
and stock files are a tiny shop in the shop's own export format, three months long so that it trains, and the
prediction examples name records of it. Ids in the examples stand for the caller's own dataset and model.
"""

from __future__ import annotations

from typing import Any

#: A sales export as the shop writes it: one row per sold copy, ``;``-separated, Russian headers, three months.
SALES_CSV = """\
Штрихкод;Исполнитель;Альбом;Конверт;Цена, руб.;Тип;Год записи;Год выпуска;Стиль;Дата создания;Дата заказа
5099902987712;Pink Floyd;The Wall;NM;4500;Переиздание;1979;2016;Rock;10.12.2023;05.01.2024 12:10
5099902987712;Pink Floyd;The Wall;NM;4500;Переиздание;1979;2016;Rock;10.12.2023;19.02.2024 17:45
5099902987712;Pink Floyd;The Wall;NM;4500;Переиздание;1979;2016;Rock;10.12.2023;02.03.2024 11:03
4607012345678;Кино;Группа крови;VG+;3200;Оригинал;1988;1988;Rock;15.12.2023;12.01.2024 15:20
4607012345678;Кино;Группа крови;VG+;3200;Оригинал;1988;1988;Rock;15.12.2023;28.03.2024 13:37
0602557382440;Miles Davis;Kind of Blue;M;3900;Переиздание;1959;2017;Jazz;20.12.2023;07.02.2024 16:02
"""

#: A stock snapshot: one row per stocked record with its copy count.
STOCK_CSV = """\
Штрихкод;Исполнитель;Альбом;Конверт;Цена, руб.;Тип;Год записи;Год выпуска;Стиль;Дата создания;Экземпляры
5099902987712;Pink Floyd;The Wall;NM;4500;Переиздание;1979;2016;Rock;10.12.2023;2
4607012345678;Кино;Группа крови;VG+;3200;Оригинал;1988;1988;Rock;15.12.2023;1
0602557382440;Miles Davis;Kind of Blue;M;3900;Переиздание;1959;2017;Jazz;20.12.2023;3
"""

DATASET_ID = "ds_01jd8x4r6q2m9v3b7k5t0wz1ya"
MODEL_ID = "mdl_01jd8x9c2h7n4p6r8s0t1v3wxy"

UPLOAD: dict[str, dict[str, Any]] = {
    "sales_and_stock": {
        "summary": "Sales export and stock snapshot",
        "description": "The stock file gives every stocked record a forecast, even one that never sold.",
        "value": {"file": SALES_CSV, "stock_file": STOCK_CSV},
    },
    "sales_only": {
        "summary": "Sales export only",
        "value": {"file": SALES_CSV},
    },
}

TRAINING: dict[str, dict[str, Any]] = {
    "monthly": {
        "summary": "Three months ahead (the defaults)",
        "value": {"dataset_id": DATASET_ID, "horizon": 3},
    },
    "weekly": {
        "summary": "Eight weeks ahead, weekly",
        "value": {"dataset_id": DATASET_ID, "frequency": "W", "horizon": 8},
    },
    "tuned": {
        "summary": "Six months, tuned, a narrower set of quantiles, not activated",
        "value": {
            "dataset_id": DATASET_ID,
            "frequency": "M",
            "horizon": 6,
            "quantiles": [0.1, 0.5, 0.9],
            "tune": True,
            "time_budget_s": 600,
            "activate": False,
        },
    },
}

PREDICTION: dict[str, dict[str, Any]] = {
    "active_model": {
        "summary": "Every record, with the active model and its training data",
        "value": {},
    },
    "some_records": {
        "summary": "Two records, two months, with a named model",
        "value": {"model_id": MODEL_ID, "horizon": 2, "items": ["5099902987712", "4607012345678"]},
    },
    "newer_data": {
        "summary": "Forecast from a newer upload with a named model",
        "value": {"model_id": MODEL_ID, "dataset_id": DATASET_ID},
    },
}


def request_examples(media_type: str, examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An operation's ``openapi_extra`` adding these named examples to its request body."""
    return {"requestBody": {"content": {media_type: {"examples": examples}}}}

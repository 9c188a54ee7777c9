import ast
import subprocess
import sys
from pathlib import Path

import plastinka_forecasting


def test_every_exported_name_resolves_once():
    exported = plastinka_forecasting.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert getattr(plastinka_forecasting, name) is not None, name
    assert set(exported) == set(plastinka_forecasting._EXPORTS)


def test_unknown_name_is_an_attribute_error():
    try:
        plastinka_forecasting.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_ingestion_does_not_load_lightgbm_or_matplotlib():
    code = (
        "import sys, plastinka_forecasting.ingest, plastinka_forecasting;"
        "print(sorted(m for m in ('lightgbm', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_module_of_the_package_imports_scipy():
    # The functions' zips should not need scipy for our code: distributions.py replaces scipy.stats.
    source = Path(plastinka_forecasting.__file__).parent
    offenders = []
    for path in source.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "scipy"]
    assert offenders == []


def test_predicting_and_baselines_do_not_import_scipy_stats():
    # scipy.stats costs about a second of a predict function's cold start.
    code = (
        "import sys, plastinka_forecasting.api, plastinka_forecasting.artifacts, plastinka_forecasting.baselines,"
        "plastinka_forecasting.calibration;print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

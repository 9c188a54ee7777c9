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


def _loaded_after(imports: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded once it ran ``import <imports>``."""
    code = f"import sys, {imports}; print(','.join(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return [m for m in out.strip().split(",") if m]


def test_importing_ingestion_does_not_load_lightgbm_or_matplotlib():
    assert _loaded_after("plastinka_forecasting.ingest, plastinka_forecasting", ("lightgbm", "matplotlib")) == []


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
    imports = (
        "plastinka_forecasting.api, plastinka_forecasting.artifacts, plastinka_forecasting.baselines,"
        "plastinka_forecasting.calibration"
    )
    assert _loaded_after(imports, ("scipy.stats",)) == []

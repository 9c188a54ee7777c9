import io
import tarfile

import pytest

import plastinka_function_runtime as runtime
from plastinka_function_runtime import (
    ArchiveError,
    ConfigurationError,
    pack_directory,
    storage_settings,
    unpack_archive,
)


def test_local_backend_from_the_environment(tmp_path):
    settings = storage_settings({"PLASTINKA_STORAGE_BACKEND": "local", "PLASTINKA_STORAGE_DIR": str(tmp_path)})
    assert settings.backend == "local"
    assert settings.local.root == tmp_path


def test_s3_backend_from_the_same_variables_the_api_and_terraform_use():
    settings = storage_settings(
        {
            "PLASTINKA_STORAGE_BACKEND": "s3",
            "PLASTINKA_S3_BUCKET": "plastinka-data",
            "PLASTINKA_S3_ENDPOINT_URL": "https://storage.yandexcloud.net",
            "PLASTINKA_S3_REGION": "ru-central1",
            "PLASTINKA_S3_ACCESS_KEY_ID": "id",
            "PLASTINKA_S3_SECRET_ACCESS_KEY": "secret",
        }
    )
    assert settings.s3.bucket == "plastinka-data"
    assert settings.s3.secret_access_key.get_secret_value() == "secret"


@pytest.mark.parametrize(
    "env",
    [{}, {"PLASTINKA_STORAGE_BACKEND": "s3"}, {"PLASTINKA_STORAGE_BACKEND": "ftp"}],
)
def test_incomplete_environments_are_configuration_errors(env):
    with pytest.raises(ConfigurationError):
        storage_settings(env)


def test_archives_are_deterministic_and_round_trip(tmp_path):
    source = tmp_path / "model"
    source.mkdir()
    (source / "meta.json").write_text("{}")
    (source / "model.txt").write_text("tree")
    first = pack_directory(source)
    (source / "model.txt").touch()  # a new mtime must not change the archive
    assert pack_directory(source) == first
    out = tmp_path / "out"
    out.mkdir()
    assert unpack_archive(first, out) == ["meta.json", "model.txt"]
    assert (out / "model.txt").read_text() == "tree"


def test_archives_with_paths_or_links_are_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ArchiveError, match="unexpected entry"):
        unpack_archive(buffer.getvalue(), tmp_path)
    with pytest.raises(ArchiveError, match="not a model archive"):
        unpack_archive(b"garbage" * 100, tmp_path)
    assert not (tmp_path.parent / "escape.txt").exists()


def test_public_names_resolve_once():
    assert len(runtime.__all__) == len(set(runtime.__all__))
    for name in runtime.__all__:
        assert hasattr(runtime, name), name

import plastinka_storage


def test_all_names_resolve_once():
    exported = plastinka_storage.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert hasattr(plastinka_storage, name), name


def test_nothing_public_is_left_out():
    public = {n for n in vars(plastinka_storage) if not n.startswith("_")}
    submodules = {"base", "checksums", "errors", "factory", "local", "retry", "s3", "settings", "signing"}
    assert public - submodules == set(plastinka_storage.__all__)


def test_every_error_is_a_storage_error():
    for name in ("ObjectNotFound", "ChecksumMismatch", "InvalidKey", "TransientStorageError", "MissingChecksum"):
        assert issubclass(getattr(plastinka_storage, name), plastinka_storage.StorageError)

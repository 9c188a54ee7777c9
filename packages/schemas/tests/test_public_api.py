import plastinka_schemas


def test_all_names_resolve_once():
    exported = plastinka_schemas.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert hasattr(plastinka_schemas, name), name


def test_nothing_public_is_left_out():
    public = {n for n in vars(plastinka_schemas) if not n.startswith("_")}
    submodules = {"api", "contracts", "enums", "functions", "lazy", "outputs"}
    assert public - submodules == set(plastinka_schemas.__all__)

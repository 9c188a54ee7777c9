"""Rules over the parsed Terraform module: conventions of this deployment, not generic lint."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from plastinka_infra_checks.findings import Finding
from plastinka_infra_checks.hcl import Block, TerraformConfig
from plastinka_infra_checks.provider_schema import DATA_SOURCES, FIRST_RELEASE, RESOURCES, unknown_arguments
from plastinka_infra_checks.secrets import SECRET_NAME, is_expression, looks_secret

EXPECTED_RUNTIME = "python312"
EXPECTED_ENTRYPOINT = "index.handler"
FUNCTION_ARTIFACTS = ("train-function", "predict-function")
PROVIDER_SOURCE = "yandex-cloud/yandex"
UPLOAD_STAGING_PREFIX = "_uploads/"  # plastinka_storage.s3.UPLOAD_PREFIX: staging objects of unhashed uploads

_SKIP = re.compile(r"checkov:skip=(?P<id>[A-Z0-9_]+)(?::(?P<reason>.*))?")
_FOLDER_WIDE = (
    "yandex_resourcemanager_folder_iam_member",
    "yandex_resourcemanager_folder_iam_binding",
    "yandex_resourcemanager_cloud_iam_member",
    "yandex_resourcemanager_cloud_iam_binding",
    "yandex_resourcemanager_folder_iam_policy",
)
_NUMERIC_TYPES = ("number",)

Rule = Callable[[TerraformConfig], Iterator[Finding]]


def _one(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The single nested block ``key`` of a body, or None."""
    value = body.get(key)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return value if isinstance(value, dict) else None


def _many(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return [value] if isinstance(value, dict) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def provider_pinned(config: TerraformConfig) -> Iterator[Finding]:
    """The yandex provider is declared in required_providers with its source and a version constraint."""
    for settings in config.settings:
        for providers in _many(settings, "required_providers"):
            spec = providers.get("yandex")
            if isinstance(spec, dict) and spec.get("source") == PROVIDER_SOURCE and spec.get("version"):
                return
    yield Finding("provider-pinned", str(config.root), f"required_providers must pin {PROVIDER_SOURCE} with a version")


def _floor(constraint: str) -> tuple[int, int, int] | None:
    match = re.search(r">=\s*(\d+)\.(\d+)\.(\d+)", constraint)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def provider_floor(config: TerraformConfig) -> Iterator[Finding]:
    """The provider's version floor is at least the first release of every resource type the module uses."""
    constraint = ""
    for settings in config.settings:
        for providers in _many(settings, "required_providers"):
            spec = providers.get("yandex")
            if isinstance(spec, dict):
                constraint = _text(spec.get("version", ""))
    floor = _floor(constraint)
    if not constraint:
        return  # provider_pinned reports it
    for block in config.of_kind("resource"):
        needed = FIRST_RELEASE.get(block.labels[0])
        if needed and (floor is None or floor < needed):
            release = ".".join(map(str, needed))
            yield Finding("provider-floor", block.address, f"needs provider >= {release}; versions.tf allows older")


def variables_documented(config: TerraformConfig) -> Iterator[Finding]:
    """Every variable has a description; every numeric one (a range) has a validation block."""
    for var in config.of_kind("variable"):
        if not str(var.body.get("description", "")).strip():
            yield Finding("variable-description", var.address, "has no description")
        vtype = str(var.body.get("type", "")).strip("${}")
        if vtype in _NUMERIC_TYPES and not _many(var.body, "validation"):
            yield Finding("variable-validation", var.address, "takes a number but has no validation block")


def no_secret_defaults(config: TerraformConfig) -> Iterator[Finding]:
    """No variable carries a secret default: secret-named variables have none, no default looks like a key."""
    for var in config.of_kind("variable"):
        if "default" not in var.body:
            continue
        default = var.body["default"]
        name = var.labels[0]
        if SECRET_NAME.search(name) and default not in (None, "", "null"):
            yield Finding("secret-default", var.address, "a secret-named variable must not have a default")
        if var.body.get("sensitive") in (True, "true") and default not in (None, "", "null"):
            yield Finding("secret-default", var.address, "a sensitive variable must not have a default")
        for literal in _literals(default):
            if looks_secret(literal):
                yield Finding("secret-default", var.address, "default looks like a credential")


def _literals(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if not is_expression(value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _literals(item)
    elif isinstance(value, list):
        for item in value:
            yield from _literals(item)


def environment_without_secrets(config: TerraformConfig) -> Iterator[Finding]:
    """Function environments hold plain settings only: secrets come through Lockbox ``secrets`` blocks."""
    for fn in config.resources("yandex_function"):
        env = fn.body.get("environment") or {}
        if not isinstance(env, dict):
            continue
        for key, value in env.items():
            at = f"{fn.address}.environment.{key}"
            if SECRET_NAME.search(key):
                yield Finding("environment-secret", at, "secret-named variable: use Lockbox")
            text = _text(value)
            if not is_expression(text) and looks_secret(text):
                yield Finding("environment-secret", at, "value looks like a credential")
            if "lockbox" in text or "secret_key" in text or "private_key" in text:
                yield Finding("environment-secret", at, "references a secret value")


def _manifest_ref(value: Any, attr: str) -> bool:
    """``value`` is an expression that reads ``attr`` of a build-manifest entry."""
    text = _text(value)
    return is_expression(text) and "manifest" in text and text.rstrip("}").endswith(f".{attr}")


def functions_follow_manifest(config: TerraformConfig) -> Iterator[Finding]:
    """Both functions come from the build's zips with its conventions: package + sha256, user_hash, runtime..."""
    functions = config.resources("yandex_function")
    if not functions:
        yield Finding("functions", str(config.root), "no yandex_function resource")
        return
    artifacts_named = {_text(v.get("artifact")) for v in _function_table(config).values() if isinstance(v, dict)} or {
        _text(fn.body.get("name")) for fn in functions
    }
    for artifact in FUNCTION_ARTIFACTS:
        if not any(artifact in name for name in artifacts_named):
            yield Finding("functions", str(config.root), f"no function is built from the {artifact} zip")
    for fn in functions:
        yield from _function_findings(config, fn)


GA_TIMEOUT_S = 600  # longer function timeouts are the long-lived functions preview, granted by support


def timeouts_within_ga_limit(config: TerraformConfig) -> Iterator[Finding]:
    """Each function's timeout variable defaults to at most 600 s; longer only through an explicit opt-in."""
    for spec in _function_table(config).values():
        if not isinstance(spec, dict):
            continue
        match = re.fullmatch(r"\$\{var\.(\w+)\}", _text(spec.get("timeout_s", "")))
        if match is None:
            continue
        var = next((v for v in config.of_kind("variable") if v.labels[0] == match.group(1)), None)
        default = var.body.get("default") if var is not None else None
        if isinstance(default, int | float) and default > GA_TIMEOUT_S:
            message = f"defaults to {default} s: over {GA_TIMEOUT_S} s is the long-lived functions preview"
            yield Finding("function-timeout", var.address if var else str(config.root), message)
    for fn in config.resources("yandex_function"):
        lifecycles = _many(fn.body, "lifecycle")
        conditions = [_text(p.get("condition", "")) for lc in lifecycles for p in _many(lc, "precondition")]
        if not any("timeout_s" in c and "var.long_lived_functions" in c for c in conditions):
            message = "needs a precondition refusing a timeout over 600 s unless var.long_lived_functions"
            yield Finding("function-timeout", fn.address, message)


def _function_table(config: TerraformConfig) -> dict[str, Any]:
    table = config.locals.get("functions")
    return table if isinstance(table, dict) else {}


def _resolves_to(config: TerraformConfig, value: Any, expected: str, attr: str) -> bool:
    """``value`` is the literal ``expected``, a local holding it, or a read of the manifest's ``attr``."""
    text = _text(value)
    if text == expected or _manifest_ref(value, attr):
        return True
    match = re.fullmatch(r"\$\{local\.(\w+)\}", text)
    return match is not None and config.locals.get(match.group(1)) == expected


def _guarded(config: TerraformConfig, fn: Block, attr: str, expected: str) -> bool:
    """A lifecycle precondition compares the manifest's ``attr`` with ``expected`` (literally or via a local)."""
    for lifecycle in _many(fn.body, "lifecycle"):
        for pre in _many(lifecycle, "precondition"):
            cond = _text(pre.get("condition", ""))
            if f".{attr} ==" not in cond:
                continue
            rhs = cond.split(f".{attr} ==", 1)[1].strip().rstrip("}").strip()
            named = re.fullmatch(r"local\.(\w+)", rhs)
            if rhs.strip('"') == expected or (named and config.locals.get(named.group(1)) == expected):
                return True
    return False


def _convention(config: TerraformConfig, fn: Block, attr: str, expected: str) -> Iterator[Finding]:
    """``attr`` is ``expected``: literally, via a local, or read from the manifest under a precondition."""
    value = fn.body.get(attr)
    if _manifest_ref(value, attr):
        if not _guarded(config, fn, attr, expected):
            message = f"reads {attr} from the manifest without a precondition that it is {expected}"
            yield Finding(f"function-{attr}", fn.address, message)
    elif not _resolves_to(config, value, expected, attr):
        yield Finding(f"function-{attr}", fn.address, f"{attr} must be {expected}")


def _function_findings(config: TerraformConfig, fn: Block) -> Iterator[Finding]:
    body, where = fn.body, fn.address
    yield from _convention(config, fn, "runtime", EXPECTED_RUNTIME)
    yield from _convention(config, fn, "entrypoint", EXPECTED_ENTRYPOINT)
    if not _manifest_ref(body.get("user_hash"), "sha256"):
        yield Finding("function-user-hash", where, "user_hash must be the zip's sha256 from the build manifest")
    yield from _package_findings(body, where)
    for attr in ("memory", "execution_timeout"):
        if not re.search(r"(var\.|each\.value\.)", _text(body.get(attr, ""))):
            yield Finding("function-sizing", where, f"{attr} must come from a validated variable")
    asynchronous = _one(body, "async_invocation")
    if asynchronous is None or "retries_count" not in asynchronous:
        yield Finding("function-async", where, "async_invocation with retries_count is required")
    elif "service_account_id" not in asynchronous:
        yield Finding("function-async", where, "async_invocation needs its service_account_id")
    yield from _secrets_findings(body, where)
    if "service_account_id" not in body:
        yield Finding("function-identity", where, "must run as a dedicated service account")


def _package_findings(body: dict[str, Any], where: str) -> Iterator[Finding]:
    package = _one(body, "package")
    if package is None or "content" in body:
        yield Finding("function-package", where, "must deploy a package {bucket_name, object_name, sha_256}")
    else:
        for attr in ("bucket_name", "object_name", "sha_256"):
            if attr not in package:
                yield Finding("function-package", where, f"package has no {attr}")
        if "sha_256" in package and not _manifest_ref(package["sha_256"], "sha256"):
            yield Finding("function-package", where, "package.sha_256 must come from the build manifest")


def _secrets_findings(body: dict[str, Any], where: str) -> Iterator[Finding]:
    secrets = _many(body, "secrets")
    if not secrets:
        yield Finding("function-secrets", where, "secrets must come from Lockbox secrets blocks")
    for secret in secrets:
        missing = [a for a in ("id", "version_id", "key", "environment_variable") if a not in secret]
        if missing:
            yield Finding("function-secrets", where, f"secrets block lacks {', '.join(missing)}")
        elif "lockbox" not in _text(secret["id"]):
            yield Finding("function-secrets", where, "secrets.id must reference a Lockbox secret")


def buckets_private_encrypted(config: TerraformConfig) -> Iterator[Finding]:
    """Every bucket: SSE with a KMS key, private ACL, anonymous access off, multipart uploads aborted."""
    for bucket in config.instances("yandex_storage_bucket"):
        body, where = bucket.body, bucket.address
        rule = _one(_one(body, "server_side_encryption_configuration") or {}, "rule") or {}
        default = _one(rule, "apply_server_side_encryption_by_default") or {}
        if default.get("sse_algorithm") != "aws:kms" or "kms" not in _text(default.get("kms_master_key_id", "")):
            yield Finding("bucket-sse", where, "needs SSE with sse_algorithm aws:kms and a KMS key")
        if body.get("acl", "private") != "private" or "grant" in body:
            yield Finding("bucket-public", where, "ACL must be private with no grants")
        flags = _one(body, "anonymous_access_flags")
        if flags is None or any(flags.get(k) not in (False, "false") for k in ("read", "list", "config_read")):
            yield Finding("bucket-public", where, "anonymous_access_flags read/list/config_read must all be false")
        rules = _many(body, "lifecycle_rule")
        if not any("abort_incomplete_multipart_upload_days" in r for r in rules):
            yield Finding("bucket-lifecycle", where, "needs a rule aborting incomplete multipart uploads")


def _rule_prefix(rule: dict[str, Any]) -> str:
    filt = _one(rule, "filter") or {}
    return _text(filt.get("prefix", rule.get("prefix", "")))


def data_lifecycle(config: TerraformConfig) -> Iterator[Finding]:
    """Scratch under jobs/ and upload staging under _uploads/ expire; nothing expires current models or datasets;
    versioned buckets prune."""
    buckets = config.instances("yandex_storage_bucket")
    holders = [b for b in buckets if any(_rule_prefix(r) == "jobs/" for r in _many(b.body, "lifecycle_rule"))]
    if not holders:
        yield Finding("bucket-lifecycle", str(config.root), "no bucket expires per-attempt scratch under jobs/")
    staging = [
        b
        for b in holders
        for r in _many(b.body, "lifecycle_rule")
        if _rule_prefix(r) == UPLOAD_STAGING_PREFIX and "expiration" in r and r.get("enabled") in (True, "true")
    ]
    if holders and not staging:
        message = f"the data bucket does not expire upload staging under {UPLOAD_STAGING_PREFIX}"
        yield Finding("bucket-lifecycle", holders[0].address, message)
    for bucket in buckets:
        for rule in _many(bucket.body, "lifecycle_rule"):
            prefix = _rule_prefix(rule)
            if "expiration" in rule and not prefix.startswith(("jobs/", UPLOAD_STAGING_PREFIX)):
                yield Finding(
                    "bucket-keeps-models",
                    bucket.address,
                    f"rule {rule.get('id', '?')} expires current objects outside jobs/ (prefix {prefix!r})",
                )
        versioning = _one(bucket.body, "versioning") or {}
        if versioning.get("enabled") in (True, "true") and not any(
            "noncurrent_version_expiration" in r and _rule_prefix(r) == "" for r in _many(bucket.body, "lifecycle_rule")
        ):
            yield Finding("bucket-lifecycle", bucket.address, "versioned bucket keeps noncurrent versions forever")


def roles_scoped(config: TerraformConfig) -> Iterator[Finding]:
    """Roles are bound on single resources: no folder- or cloud-wide IAM; functions invoked via functionInvoker."""
    for rtype in _FOLDER_WIDE:
        for block in config.resources(rtype):
            yield Finding("iam-scope", block.address, "folder/cloud-wide role: bind it on the resource instead")
    bindings = config.instances("yandex_function_iam_member")
    invokers = [b for b in bindings if b.body.get("role") == "functions.functionInvoker"]
    if not invokers:
        yield Finding("iam-invoker", str(config.root), "the API needs functions.functionInvoker on the functions")
    for block in config.instances():
        role = _text(block.body.get("role", ""))
        if role in ("admin", "editor", "storage.admin", "kms.admin", "lockbox.admin", "functions.admin"):
            yield Finding("iam-scope", block.address, f"role {role} is wider than any account here needs")
        members = [_text(block.body.get("member", ""))] + [_text(m) for m in block.body.get("members", []) or []]
        if any(m.startswith("system:") for m in members) and not _public_api_endpoint(block):
            yield Finding("iam-public", block.address, "grants a role to a system group (all users)")


def _public_api_endpoint(block: Block) -> bool:
    """The one public grant: anyone may invoke the API's container (the API authenticates every route itself)."""
    return (
        block.labels[0] == "yandex_serverless_container_iam_member"
        and block.body.get("role") == "serverless.containers.invoker"
        and "yandex_serverless_container.api[" in _text(block.body.get("container_id", ""))
        and block.body.get("member") == "system:allUsers"
    )


_ADDRESS = re.compile(r'(?P<resource>[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*)(?:\[(?:"(?P<key>[^"]*)"|(?P<index>\d+))\])?')


def moved_blocks_resolve(config: TerraformConfig) -> Iterator[Finding]:
    """Every ``moved`` block goes from an address no block declares any more to an instance one does, of the same
    resource type, and no address is moved twice: what ``terraform validate`` would refuse, and what makes an
    existing deployment plan a destroy/create instead of a move."""
    declared = {b.address: b for b in config.of_kind("resource")}
    sources: set[str] = set()
    for moved in config.moved:
        where = f"moved {moved.source} -> {moved.target}"
        source, target = _ADDRESS.fullmatch(moved.source), _ADDRESS.fullmatch(moved.target)
        if source is None or target is None:
            yield Finding("moved", where, "from and to must be resource addresses")
            continue
        if moved.source in sources:
            yield Finding("moved", where, f"{moved.source} is moved more than once")
        sources.add(moved.source)
        if source["resource"].split(".")[0] != target["resource"].split(".")[0]:
            yield Finding("moved", where, "moves between resource types")
        if source["key"] is None and source["index"] is None and source["resource"] in declared:
            yield Finding("moved", where, f"{moved.source} is still declared: the move would never happen")
        block = declared.get(target["resource"])
        if block is None:
            yield Finding("moved", where, f"no resource {target['resource']} is declared")
            continue
        yield from _target_instance(config, block, target, where)


def _target_instance(config: TerraformConfig, block: Block, target: re.Match[str], where: str) -> Iterator[Finding]:
    keys = config.for_each_keys(block)
    if target["key"] is not None:
        if "for_each" not in block.body:
            yield Finding("moved", where, f"{block.address} has no for_each, so no instance key")
        elif keys is not None and target["key"] not in keys:
            yield Finding("moved", where, f"{block.address}'s for_each has no key {target['key']!r}")
    elif target["index"] is not None and "count" not in block.body:
        yield Finding("moved", where, f"{block.address} has no count, so no instance index")
    elif target["index"] is None and ("for_each" in block.body or "count" in block.body):
        yield Finding("moved", where, f"{block.address} has several instances: name one")


def arguments_known(config: TerraformConfig) -> Iterator[Finding]:
    """Every resource and data source uses only argument and block names the provider documents."""
    for kind, table in (("resource", RESOURCES), ("data", DATA_SOURCES)):
        for block in config.of_kind(kind):
            schema = table.get(block.labels[0])
            if schema is None:
                yield Finding("provider-schema", block.address, f"{block.labels[0]} is not in provider_schema.py")
                continue
            for name in unknown_arguments(schema, block.body):
                yield Finding("provider-schema", block.address, f"unknown argument or block {name}")


def skips_have_reasons(config: TerraformConfig) -> Iterator[Finding]:
    """Every ``checkov:skip=CKV_...`` comment says why after a colon."""
    for block in config.blocks:
        for comment in block.comments:
            match = _SKIP.search(comment)
            if match and not (match.group("reason") or "").strip():
                yield Finding("checkov-skip-reason", block.address, f"skip of {match.group('id')} has no reason")


ALL_RULES: tuple[Rule, ...] = (
    provider_pinned,
    provider_floor,
    variables_documented,
    no_secret_defaults,
    environment_without_secrets,
    functions_follow_manifest,
    timeouts_within_ga_limit,
    buckets_private_encrypted,
    data_lifecycle,
    roles_scoped,
    moved_blocks_resolve,
    arguments_known,
    skips_have_reasons,
)


def check_terraform(config: TerraformConfig) -> list[Finding]:
    """Run every rule; findings sorted for stable output."""
    return sorted(f for rule in ALL_RULES for f in rule(config))

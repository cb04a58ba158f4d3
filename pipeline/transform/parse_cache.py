"""dbt's parse of the project, kept on disk so that a new process builds a new stack without parsing again.

A process keeps its parses in memory (`pipeline.transform.prepared_project`), but every `shopstream` command is a
new process, and a new stack has no partial-parse file of its own: dbt would parse the whole project (4 to 6 s)
although another stack, or the previous command, parsed exactly the same. So a successful parse is also saved here,
in dbt's own partial-parse format (the manifest as msgpack), under a key of everything the parse depends on: the
inputs that `parse_inputs` names, the vars, every file of the project, where the project is, and the versions of
dbt and its adapters. Loading it takes about half a second.

The cache is the user's (`$XDG_CACHE_HOME/shopstream/dbt-parse`, see `pipeline.settings.cache_home`): a parse does
not depend on the SHOPSTREAM_HOME. Nothing secret is kept: the project's SQL and the stack's target names, but not
the values of the environment variables the parse read (the privacy salt among them; models read it again when
they compile). It only speeds things up: an unreadable, stale or missing entry means one more parse, never a wrong
build. Deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pipeline.transform.fingerprint import package_version, project_digest
from pipeline.user_cache import CacheFolder

CACHE_FOLDER = "dbt-parse"
# 16 parses kept (targets, as-of dates, branches), the least recently used forgotten first.
_PARSES = CacheFolder(CACHE_FOLDER, ".msgpack", kept=16)
_VERSIONED = ("dbt-core", "dbt-common", "dbt-adapters", "dbt-duckdb", "dbt-snowflake", "mashumaro", "msgpack")


def key(inputs: dict[str, str], build_vars: dict[str, str], project_dir: Path) -> str:
    """The name of a parse: equal keys, equal manifests."""
    context = {
        "inputs": inputs,
        "vars": build_vars,
        "project": str(project_dir.resolve()),  # paths inside the manifest are the checkout's
        "versions": {name: package_version(name) for name in _VERSIONED},
    }
    digest = hashlib.sha256(json.dumps(context, sort_keys=True).encode())
    digest.update(project_digest(project_dir).encode())
    return digest.hexdigest()


def load(name: str) -> Any:
    """The manifest saved under this key, ready for a build; None when there is none or it cannot be read."""
    data = _PARSES.read(name)
    if data is None:
        return None
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    try:
        manifest = Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)
        # What dbt does to a partial-parse file it can use as is (ManifestLoader.load, get_full_manifest).
        manifest.build_parent_and_child_maps()
        manifest.build_flat_graph()
    except Exception:  # written by another version, torn, or not ours: parse again
        return None
    return manifest


def save(name: str, manifest: Any) -> None:
    """Keep a successful parse for other processes, written atomically (several may save the same key at once), before
    the manifest is used: it is changed for a moment while it is written. A cache that cannot be written is no error:
    the next process parses."""
    try:
        data = _without_values_read_from_the_environment(manifest)
    except Exception:  # a manifest dbt cannot serialise: no cache, no harm
        return
    _PARSES.write(name, data)


def _without_values_read_from_the_environment(manifest: Any) -> bytes:
    """The manifest as dbt saves it for partial parsing, except the values of the environment variables the parse
    read: dbt keeps them only to notice a change before a partial parse (never done from this cache), and one of them
    is the stack's privacy salt, a secret that must not outlive its stack in a folder shared by every stack. The
    flat graph is left out as dbt leaves it out: loading rebuilds it. Both are put back before returning (the caller
    has not handed the manifest to anyone yet)."""
    from dbt.parser.manifest import extended_mashumaro_encoder

    env_vars, flat_graph = manifest.env_vars, manifest.flat_graph
    manifest.env_vars, manifest.flat_graph = dict.fromkeys(env_vars, ""), {}
    try:
        data: bytes = manifest.to_msgpack(extended_mashumaro_encoder)
    finally:
        manifest.env_vars, manifest.flat_graph = env_vars, flat_graph
    return data

"""Build tiny real OCI images in Python and push them with skopeo to a loopback registry.

Layers are gzipped tars with zero timestamps, so the same files give the same digests.
An index lists its platforms in the order given.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
BUSYBOX = Path("/bin/busybox")


def busybox_files() -> dict[str, bytes]:
    """Return the files of a one-binary image: the static busybox from busybox-static."""
    return {"bin/busybox": BUSYBOX.read_bytes()}


def write_oci_layout(
    layout: Path,
    tag: str,
    *,
    platforms: Sequence[str] = ("linux/amd64",),
    files: Mapping[str, bytes] | None = None,
    index: bool = False,
) -> str:
    """Write an OCI image layout holding one image under `tag`; return its digest.

    With `index` (or more than one platform) the image is an index with one manifest per
    platform, in the given order; each platform's layer also contains `etc/platform`.
    """
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')

    descriptors = []
    for platform in platforms:
        platform_files = dict(files or {})
        platform_files["etc/platform"] = f"{platform}\n".encode()
        manifest = _write_image(blobs, platform, platform_files)
        manifest["platform"] = _platform_object(platform)
        descriptors.append(manifest)

    if index or len(platforms) > 1:
        document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
        top = _write_blob(blobs, _canonical_json(document), OCI_INDEX)
    else:
        top = {key: value for key, value in descriptors[0].items() if key != "platform"}

    top_entry = dict(top, annotations={"org.opencontainers.image.ref.name": tag})
    layout_index = {"schemaVersion": 2, "manifests": [top_entry]}
    (layout / "index.json").write_bytes(_canonical_json(layout_index))
    return str(top["digest"])


def push_layout(
    layout: Path,
    tag: str,
    destination: str,
    *,
    credentials: tuple[str, str] | None = None,
    workdir: Path,
) -> str:
    """Copy `layout:tag` to `docker://destination` with skopeo, keeping digests; return the digest.

    `destination` is `127.0.0.1:PORT/NAME:TAG`; TLS is off because the registry speaks HTTP.
    """
    skopeo = shutil.which("skopeo")
    assert skopeo is not None, "skopeo is not installed (apt package skopeo)"
    policy = workdir / "policy.json"
    policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    digest_file = workdir / "pushed-digest"
    arguments = [
        skopeo,
        "--policy",
        str(policy),
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--digestfile",
        str(digest_file),
        "--quiet",
    ]
    if credentials is not None:
        arguments += ["--dest-creds", f"{credentials[0]}:{credentials[1]}"]
    arguments += [f"oci:{layout}:{tag}", f"docker://{destination}"]
    completed = subprocess.run(
        arguments, capture_output=True, text=True, check=False, timeout=120
    )
    if completed.returncode != 0:
        raise RuntimeError(f"skopeo copy to {destination} failed: {completed.stderr.strip()}")
    return digest_file.read_text().strip()


def _write_image(blobs: Path, platform: str, files: Mapping[str, bytes]) -> dict[str, object]:
    layer_tar = _tar_files(files)
    layer_gz = gzip.compress(layer_tar, mtime=0)
    layer = _write_blob(blobs, layer_gz, OCI_LAYER)

    platform_object = _platform_object(platform)
    config_document = {
        **platform_object,
        "config": {"Entrypoint": ["/bin/busybox"]} if "bin/busybox" in files else {},
        "rootfs": {"type": "layers", "diff_ids": [_digest(layer_tar)]},
    }
    config = _write_blob(blobs, _canonical_json(config_document), OCI_CONFIG)
    manifest_document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": [layer],
    }
    return _write_blob(blobs, _canonical_json(manifest_document), OCI_MANIFEST)


def _tar_files(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size = len(files[path])
            info.mode = 0o755 if path.startswith("bin/") else 0o644
            info.mtime = 0
            archive.addfile(info, io.BytesIO(files[path]))
    return buffer.getvalue()


def _platform_object(platform: str) -> dict[str, str]:
    os_name, architecture, *variant = platform.split("/")
    result = {"architecture": architecture, "os": os_name}
    if variant:
        result["variant"] = variant[0]
    return result


def _write_blob(blobs: Path, content: bytes, media_type: str) -> dict[str, object]:
    digest = _digest(content)
    (blobs / digest.removeprefix("sha256:")).write_bytes(content)
    return {"mediaType": media_type, "digest": digest, "size": len(content)}


def _digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def _canonical_json(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

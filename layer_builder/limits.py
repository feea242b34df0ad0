"""Lambda's deployment size limits, checked before anything is deployed."""

from layer_builder.errors import BuildError

MiB = 1024 * 1024
MAX_DIRECT_UPLOAD_ZIPPED = 50 * MiB  # a zip uploaded directly in CreateFunction / PublishLayer
MAX_UNZIPPED_TOTAL = 250 * MiB  # function code plus all its layers, unzipped


def check_zip_limits(what: str, zipped_bytes: int, unzipped_bytes: int) -> None:
    """Fail when one artifact alone breaks a limit."""
    if zipped_bytes > MAX_DIRECT_UPLOAD_ZIPPED:
        raise BuildError(
            f"{what} is {zipped_bytes / MiB:.1f} MiB zipped; Lambda accepts at most "
            f"{MAX_DIRECT_UPLOAD_ZIPPED // MiB} MiB for a direct upload. Drop dependencies "
            f"from lambda/requirements.txt or prune botocore's service models (--keep-services)"
        )
    check_unzipped_total({what: unzipped_bytes})


def check_unzipped_total(parts: dict[str, int]) -> None:
    """Fail when function code plus layers exceed Lambda's unzipped limit."""
    total = sum(parts.values())
    if total > MAX_UNZIPPED_TOTAL:
        detail = ", ".join(f"{name} {size / MiB:.1f} MiB" for name, size in parts.items())
        raise BuildError(
            f"function and layers unzip to {total / MiB:.1f} MiB ({detail}); Lambda allows "
            f"{MAX_UNZIPPED_TOTAL // MiB} MiB in total. Remove dependencies or prune the layer"
        )

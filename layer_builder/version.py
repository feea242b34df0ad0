"""Part of every input hash: bump it whenever the builder changes what it puts in a zip."""

BUILDER_VERSION = "1"

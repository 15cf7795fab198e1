"""Streams files through SHA-256 in constant memory, several files at a time, consulting the cache first."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from provlineage.hashing.cache import DigestCache, stat_fingerprint
from provlineage.hashing.digest import ALGORITHM, FileDigest
from provlineage.hashing.failures import not_hashable, os_failure
from provlineage.hashing.options import HashOptions
from provlineage.hashing.parallel import map_in_threads
from provlineage.hashing.progress import ByteCallback, byte_progress, wants_progress

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
_file_digest = getattr(hashlib, "file_digest", None)  # Python 3.11+
# O_NONBLOCK: a file swapped for a FIFO after the directory walk must not hang the hash.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_per_thread = threading.local()


@dataclass(frozen=True)
class FileJob:
    """A regular file to hash: its manifest path, where it is, and the stat the cache is keyed on."""

    rel: str
    abs_path: str
    stat: os.stat_result


def _chunk_buffer() -> bytearray:
    buffer = getattr(_per_thread, "buffer", None)
    if buffer is None:
        buffer = _per_thread.buffer = bytearray(CHUNK_SIZE)
    return buffer


def hash_stream(stream: BinaryIO, advance: ByteCallback | None = None) -> tuple[str, int]:
    """SHA-256 hex digest and byte count of the rest of ``stream``, through one reused 1 MiB buffer."""
    digest = hashlib.sha256()
    total = 0
    readinto = getattr(stream, "readinto", None)
    if readinto is None:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            total += len(chunk)
            if advance is not None:
                advance(len(chunk))
        return digest.hexdigest(), total
    buffer = _chunk_buffer()
    view = memoryview(buffer)
    while count := readinto(buffer):
        digest.update(view[:count])
        total += count
        if advance is not None:
            advance(count)
    return digest.hexdigest(), total


def _hash_local_handle(handle: BinaryIO, advance: ByteCallback | None) -> tuple[str, int]:
    if advance is None and _file_digest is not None:
        return _file_digest(handle, ALGORITHM).hexdigest(), handle.tell()
    return hash_stream(handle, advance)


def hash_file(job: FileJob, cache: DigestCache | None, advance: ByteCallback | None = None) -> FileDigest:
    """Reads and hashes one file; caches the digest only if the file held still while it was read."""
    try:
        fd = os.open(job.abs_path, _OPEN_FLAGS)
        with open(fd, "rb", buffering=0) as handle:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise not_hashable(job.abs_path, "special file (FIFO, socket or device)")
            hex_digest, size = _hash_local_handle(handle, advance)
            after = os.fstat(fd)
    except OSError as error:
        raise os_failure(job.abs_path, error) from None
    if stat_fingerprint(before) != stat_fingerprint(after) or size != before.st_size:
        logger.warning("%s changed while it was being hashed; its digest may match no saved version", job.abs_path)
    elif cache is not None:
        cache.store(job.abs_path, before, hex_digest)
    return FileDigest(job.rel, hex_digest, size)


def hash_files(jobs: Sequence[FileJob], options: HashOptions, label: str) -> list[FileDigest]:
    """Digests of ``jobs`` (in no particular order): cached ones without reading, the rest in threads."""
    cache = DigestCache(options.resolved_cache_dir()) if options.use_cache else None
    digests: list[FileDigest] = []
    pending: list[FileJob] = []
    for job in jobs:
        cached = cache.lookup(job.abs_path, job.stat) if cache is not None else None
        if cached is None:
            pending.append(job)
        else:
            digests.append(FileDigest(job.rel, cached, job.stat.st_size))
    if not pending:
        return digests
    pending.sort(key=lambda job: job.stat.st_size, reverse=True)  # big files first balances the threads
    bytes_to_read = sum(job.stat.st_size for job in pending)
    with byte_progress(bytes_to_read, wants_progress(options.progress, bytes_to_read), label) as advance:
        digests.extend(map_in_threads(lambda job: hash_file(job, cache, advance), pending, options.local_workers()))
    return digests

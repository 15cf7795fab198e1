"""Walks a local directory into what must be hashed, applying the ignore, symlink and special-file rules.

Symlink rule (default, ``follow_symlinks=False``): a symlink below the hashed path is never followed,
wherever it points (inside the tree, outside it, or nowhere). It is recorded as a manifest entry of its
own: digest ``symlink-sha256:<SHA-256 of the link text>`` (the bytes ``os.readlink`` returns), size the
length of that text. So retargeting a link, or replacing it with a copy of its target, changes the root
digest, and nothing outside the tree is ever read.

With ``follow_symlinks=True`` links are followed as ``find -L`` does: a link to a file is hashed as that
file's bytes, a link to a directory is walked. A link back to one of its own ancestor directories (a
cycle) and a dangling link are recorded by the rule above instead, with a warning.

The path handed to :func:`~provlineage.hashing.hash_path` is itself always resolved, even if it is a
symlink. Special files (FIFOs, sockets, devices) are skipped with a warning: reading them could block or
never end. Ignore patterns (:mod:`provlineage.hashing.ignore`) see a link as a file unless it is followed
to a directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from dataclasses import dataclass, field

from provlineage.hashing.digest import FileDigest
from provlineage.hashing.failures import os_failure
from provlineage.hashing.files import FileJob
from provlineage.hashing.ignore import IgnoreRules

logger = logging.getLogger(__name__)

SYMLINK_DIGEST_PREFIX = "symlink-sha256:"


def symlink_entry(rel: str, abs_path: str) -> FileDigest:
    target = os.readlink(os.fsencode(abs_path))
    return FileDigest(rel, SYMLINK_DIGEST_PREFIX + hashlib.sha256(target).hexdigest(), len(target))


@dataclass
class TreeScan:
    """Regular files still to hash, symlink entries already digested, and special files left out."""

    files: list[FileJob] = field(default_factory=list)
    links: list[FileDigest] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


_DirIdentity = tuple[int, int]


class _Walker:
    def __init__(self, ignore: IgnoreRules, follow_symlinks: bool) -> None:
        self.ignore = ignore
        self.follow_symlinks = follow_symlinks
        self.scan = TreeScan()
        self.stack: list[tuple[str, str, frozenset[_DirIdentity]]] = []

    def walk(self, root: str, root_stat: os.stat_result) -> TreeScan:
        self.stack.append((root, "", frozenset({(root_stat.st_dev, root_stat.st_ino)})))
        while self.stack:
            dir_path, dir_rel, ancestors = self.stack.pop()
            try:
                with os.scandir(dir_path) as listing:
                    entries = list(listing)
            except OSError as error:
                raise os_failure(dir_path, error) from None
            for entry in entries:
                rel = f"{dir_rel}/{entry.name}" if dir_rel else entry.name
                try:
                    self._visit(entry, rel, ancestors)
                except OSError as error:
                    raise os_failure(entry.path, error) from None
        if self.scan.skipped:
            logger.warning(
                "skipped %d special file(s) (FIFO, socket or device) under %s, e.g. %s",
                len(self.scan.skipped),
                root,
                self.scan.skipped[0],
            )
        return self.scan

    def _visit(self, entry: os.DirEntry[str], rel: str, ancestors: frozenset[_DirIdentity]) -> None:
        if entry.is_symlink():
            if not self.follow_symlinks:
                if not self.ignore.matches(rel, is_dir=False):
                    self.scan.links.append(symlink_entry(rel, entry.path))
                return
            try:
                target_stat = os.stat(entry.path)
            except OSError as error:
                if not self.ignore.matches(rel, is_dir=False):
                    logger.warning("%s cannot be followed (%s); recorded as a link", entry.path, error.strerror)
                    self.scan.links.append(symlink_entry(rel, entry.path))
                return
            self._add(entry.path, rel, target_stat, ancestors)
        elif entry.is_dir(follow_symlinks=False):
            if not self.ignore.matches(rel, is_dir=True):
                if self.follow_symlinks:  # only followed links can make cycles
                    ancestors = ancestors | {(entry.stat(follow_symlinks=False).st_dev, entry.inode())}
                self.stack.append((entry.path, rel, ancestors))
        elif entry.is_file(follow_symlinks=False):
            if not self.ignore.matches(rel, is_dir=False):
                self.scan.files.append(FileJob(rel, entry.path, entry.stat(follow_symlinks=False)))
        else:
            self.scan.skipped.append(entry.path)

    def _add(self, path: str, rel: str, target_stat: os.stat_result, ancestors: frozenset[_DirIdentity]) -> None:
        """A followed link, by what it points to."""
        mode = target_stat.st_mode
        is_dir = stat.S_ISDIR(mode)
        if self.ignore.matches(rel, is_dir=is_dir):
            return
        if is_dir:
            identity = (target_stat.st_dev, target_stat.st_ino)
            if identity in ancestors:
                logger.warning("%s points back to a parent directory; recorded as a link to break the cycle", path)
                self.scan.links.append(symlink_entry(rel, path))
            else:
                self.stack.append((path, rel, ancestors | {identity}))
        elif stat.S_ISREG(mode):
            self.scan.files.append(FileJob(rel, path, target_stat))
        else:
            self.scan.skipped.append(path)


def scan_tree(root: str, root_stat: os.stat_result, ignore: IgnoreRules, follow_symlinks: bool) -> TreeScan:
    """Everything below the absolute directory ``root`` that the hash covers."""
    return _Walker(ignore, follow_symlinks).walk(root, root_stat)

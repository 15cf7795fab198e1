"""RFC 6962 (Certificate Transparency) Merkle trees over inference records.

A run's events carry one root; an auditor proves that a single record belongs to the run with an audit path of
``log2(n)`` hashes, without the other records.  The definitions are RFC 6962 §2.1 (restated in RFC 9162 §2.1):

* leaf hash ``SHA-256(0x00 || data)``, interior node ``SHA-256(0x01 || left || right)`` (domain separation stops a
  leaf from posing as a node);
* the root of ``n > 1`` leaves splits them at ``k``, the largest power of two below ``n``; the empty tree's root is
  ``SHA-256("")``.

That split yields exactly the tree built bottom-up by hashing neighbours in pairs and carrying an unpaired last
node up unchanged, which is what :func:`levels` does (``tests/test_merkle.py`` checks both against each other).
:class:`MerkleAccumulator` folds leaves in as they arrive with ``O(log n)`` memory, so a writer never keeps the
leaves to compute the root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

TREE_ALGORITHM = "rfc6962-sha256"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first, root level last (``[[]]`` for no leaves)."""
    tree = [list(leaf_hashes)]
    while len(tree[-1]) > 1:
        below = tree[-1]
        above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        tree.append(above)
    return tree


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle Tree Hash of the leaves (given as leaf hashes)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return levels(leaf_hashes)[-1][0]


def audit_path(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 ``PATH(index, D[n])``: the sibling hashes from the leaf up to the root."""
    if not 0 <= index < len(leaf_hashes):
        raise IndexError(f"leaf {index} is outside a tree of {len(leaf_hashes)} leaves")
    path = []
    for level in levels(leaf_hashes)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        index >>= 1
    return path


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root implied by a leaf hash and its audit path (RFC 9162 §2.1.3.2), or ``None`` if the path cannot fit."""
    if not 0 <= index < size:
        return None
    position, last, node = index, size - 1, leaf
    for sibling in path:
        if last == 0:
            return None
        if position & 1 or position == last:
            node = node_hash(sibling, node)
            while not position & 1 and position != 0:
                position >>= 1
                last >>= 1
        else:
            node = node_hash(node, sibling)
        position >>= 1
        last >>= 1
    return node if last == 0 else None


def verify_path(leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> bool:
    return root_from_path(leaf, index, size, path) == expected_root


class MerkleAccumulator:
    """Appends leaf hashes one at a time and gives the root of all so far, keeping only ``O(log n)`` subtree roots."""

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # perfect subtrees, largest first: (leaf count, hash)
        self.size = 0

    def append(self, leaf: bytes) -> None:
        stack = self._stack
        count, node = 1, leaf
        while stack and stack[-1][0] == count:
            count, node = count * 2, node_hash(stack.pop()[1], node)
        stack.append((count, node))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node

"""RFC 6962 Merkle trees: roots, audit paths and their verification, against the RFC's recursive definition."""

from __future__ import annotations

import hashlib

import pytest

from provlineage._internal import merkle


def _reference_root(data: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 §2.1 writes it."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + _reference_root(data[:k]) + _reference_root(data[k:])).digest()


def _reference_path(m: int, data: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 6962 §2.1.1 writes it."""
    if len(data) == 1:
        return []
    k = 1
    while k * 2 < len(data):
        k *= 2
    if m < k:
        return [*_reference_path(m, data[:k]), _reference_root(data[k:])]
    return [*_reference_path(m - k, data[k:]), _reference_root(data[:k])]


def _data(n: int) -> list[bytes]:
    return [f"record-{i}".encode() for i in range(n)]


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert merkle.root([]) == hashlib.sha256(b"").digest()
    assert merkle.MerkleAccumulator().root() == hashlib.sha256(b"").digest()


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


@pytest.mark.parametrize("size", [*range(1, 18), 31, 32, 33, 100, 255, 257])
def test_root_and_paths_match_the_rfc_definition(size: int) -> None:
    data = _data(size)
    leaves = [merkle.leaf_hash(d) for d in data]
    expected = _reference_root(data)
    assert merkle.root(leaves) == expected
    accumulator = merkle.MerkleAccumulator()
    for leaf in leaves:
        accumulator.append(leaf)
    assert accumulator.root() == expected
    assert accumulator.size == size
    for index in range(size) if size <= 33 else (0, 1, size // 2, size - 2, size - 1):
        path = merkle.audit_path(index, leaves)
        assert path == _reference_path(index, data)
        assert merkle.verify_path(leaves[index], index, size, path, expected)


def test_known_vector_from_certificate_transparency() -> None:
    # The 8-leaf tree used by the Certificate Transparency test suites (leaves "", 0x00, 0x10, ...).
    data = [
        bytes.fromhex(h)
        for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
    ]
    leaves = [merkle.leaf_hash(d) for d in data]
    assert merkle.root(leaves).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert merkle.root(leaves[:1]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


def test_a_path_does_not_verify_for_another_leaf_index_size_or_root() -> None:
    leaves = [merkle.leaf_hash(d) for d in _data(1000)]
    tree_root = merkle.root(leaves)
    path = merkle.audit_path(417, leaves)
    assert merkle.verify_path(leaves[417], 417, 1000, path, tree_root)
    assert not merkle.verify_path(leaves[418], 417, 1000, path, tree_root)
    assert not merkle.verify_path(leaves[417], 416, 1000, path, tree_root)
    assert not merkle.verify_path(leaves[417], 417, 512, path, tree_root)  # another tree shape
    assert not merkle.verify_path(leaves[417], 417, 1000, path[:-1], tree_root)
    assert not merkle.verify_path(leaves[417], 417, 1000, [*path, path[0]], tree_root)
    assert not merkle.verify_path(leaves[417], 417, 1000, path, merkle.root(leaves[:999]))
    assert merkle.root_from_path(leaves[0], 5, 3, []) is None


def test_audit_path_rejects_an_index_outside_the_tree() -> None:
    with pytest.raises(IndexError, match="outside a tree of 3 leaves"):
        merkle.audit_path(3, [merkle.leaf_hash(d) for d in _data(3)])

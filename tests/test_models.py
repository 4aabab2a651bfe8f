"""The models: parsed once from etcd's bytes, with the attributes older code reads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from aio_etcd.models import ErrorPayload, EtcdNode, EtcdResult, Member, VersionInfo

# Bodies as etcd 3.5.1 sends them (protocol reference, section 1.4).
UPDATE = (
    b'{"action":"update","node":{"key":"/k1","value":"v1b","modifiedIndex":8,"createdIndex":6},'
    b'"prevNode":{"key":"/k1","value":"v1","modifiedIndex":6,"createdIndex":6}}\n'
)
TTL = (
    b'{"action":"set","node":{"key":"/t1","value":"a","expiration":'
    b'"2026-11-23T20:07:23.132373205Z","ttl":100,"modifiedIndex":33,"createdIndex":33}}\n'
)
ROOT = (
    b'{"action":"get","node":{"dir":true,"nodes":'
    b'[{"key":"/a","value":"1","modifiedIndex":4,"createdIndex":4}]}}\n'
)
TREE = (
    b'{"action":"get","node":{"key":"/d","dir":true,"nodes":['
    b'{"key":"/d/a","value":"1","modifiedIndex":5,"createdIndex":5},'
    b'{"key":"/d/e","dir":true,"modifiedIndex":6,"createdIndex":6},'
    b'{"key":"/d/s","dir":true,"nodes":[{"key":"/d/s/b","value":"2","modifiedIndex":7,'
    b'"createdIndex":7}],"modifiedIndex":7,"createdIndex":7}],'
    b'"modifiedIndex":5,"createdIndex":5}}\n'
)


def test_result_exposes_node_attributes_both_ways() -> None:
    result = EtcdResult.model_validate_json(UPDATE)
    assert (result.action, result.key, result.value) == ("update", "/k1", "v1b")
    assert (result.modifiedIndex, result.createdIndex) == (8, 6)
    assert (result.modified_index, result.created_index) == (8, 6)
    assert result.prev_node is not None and result.prev_node.value == "v1"
    assert result._prev_node is result.prev_node
    assert result.dir is False and result.ttl is None and result.expiration is None


def test_ttl_and_expiration() -> None:
    result = EtcdResult.model_validate_json(TTL)
    assert result.ttl == 100
    assert result.expiration == datetime(2026, 11, 23, 20, 7, 23, 132373, tzinfo=timezone.utc)


def test_root_has_slash_key_and_no_index() -> None:
    root = EtcdResult.model_validate_json(ROOT)
    assert root.key == "/" and root.dir and root.modifiedIndex == 0
    assert [n.key for n in root.children] == ["/a"]


def test_leaves_subtree_and_children() -> None:
    tree = EtcdResult.model_validate_json(TREE)
    assert [n.key for n in tree.leaves] == ["/d/a", "/d/e", "/d/s/b"]
    assert [n.key for n in tree.children] == ["/d/a", "/d/e", "/d/s/b"]
    assert [n.key for n in tree.get_subtree()] == ["/d", "/d/a", "/d/e", "/d/s", "/d/s/b"]
    assert [n.key for n in tree.get_subtree(leaves_only=True)] == ["/d/a", "/d/e", "/d/s/b"]


def test_a_file_is_its_own_leaf_and_an_empty_dir_has_none() -> None:
    file = EtcdNode(key="/f", value="v", modified_index=3, created_index=3)
    assert list(file.leaves) == [file]
    empty = EtcdNode(key="/e", dir=True, modified_index=3, created_index=3)
    assert list(empty.children) == []


def test_value_and_ttl_can_be_reassigned() -> None:
    result = EtcdResult.model_validate_json(UPDATE)
    result.value = 5
    assert result.value == "5" and result.node.value == "5"
    result.value = 2.5
    assert result.value == "2.5"
    assert result.value is not None
    result.value += "x"
    assert result.value == "2.5x"
    result.ttl = 60
    assert result.ttl == 60 and result.node.ttl == 60


def test_dict_style_access_for_older_code() -> None:
    member = Member.model_validate_json(
        b'{"id":"2e0775f911164e3b","name":"n3","peerURLs":["http://127.0.0.1:24103"],'
        b'"clientURLs":["http://127.0.0.1:24003"]}'
    )
    assert member["clientURLs"] == member.client_urls == ["http://127.0.0.1:24003"]
    assert member["client_urls"] == member["clientURLs"]
    assert member.get("peerURLs") == ["http://127.0.0.1:24103"]
    assert member.get("nope", "default") == "default"
    assert "name" in member and "nope" not in member
    with pytest.raises(KeyError):
        member["nope"]


def test_error_payload_shapes() -> None:
    v2 = ErrorPayload.model_validate_json(
        b'{"errorCode":100,"message":"Key not found","cause":"/missing","index":13}\n'
    )
    assert (v2.error_code, v2.message, v2.cause, v2.index) == (100, "Key not found", "/missing", 13)
    assert v2["errorCode"] == 100
    short = ErrorPayload.model_validate_json(b'{"message":"not current leader"}')
    assert (short.error_code, short.message) == (None, "not current leader")


def test_version_info() -> None:
    info = VersionInfo.model_validate_json(b'{"etcdserver":"3.5.1","etcdcluster":"3.5.0"}')
    assert (info.server, info.cluster) == ("3.5.1", "3.5.0")
    assert info["etcdserver"] == "3.5.1"


def test_unknown_fields_are_ignored() -> None:
    result = EtcdResult.model_validate_json(
        b'{"action":"get","future":1,"node":{"key":"/k","value":"v","new":true,'
        b'"modifiedIndex":1,"createdIndex":1}}'
    )
    assert result.value == "v"


def test_a_result_built_by_hand_needs_no_action() -> None:
    """python-etcd and aio_etcd 0.4 defaulted ``action`` to ``None``; tests build results."""
    result = EtcdResult(node={"key": "/a", "value": "1"})  # type: ignore[arg-type]
    assert (result.action, result.key, result.value) == (None, "/a", "1")
    assert EtcdResult.model_validate({"node": {"key": "/b"}}).action is None

"""The embedded log places keyed records where Kafka's Java client does (murmur2 of the key)."""

from __future__ import annotations

import ctypes

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from carehub.broker.partitioner import key_partition, murmur2

# org.apache.kafka.common.utils.UtilsTest#testMurmur2: the hash as a signed Java int.
JAVA_MURMUR2 = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]


@pytest.mark.parametrize(("key", "java_hash"), JAVA_MURMUR2)
def test_murmur2_matches_the_java_client(key: bytes, java_hash: int) -> None:
    # kafka-python returns the same 32 bits unsigned.
    assert ctypes.c_int32(murmur2(key)).value == java_hash


@pytest.mark.parametrize(("key", "java_hash"), JAVA_MURMUR2)
@pytest.mark.parametrize("partitions", [1, 3, 7, 12, 100])
def test_a_key_goes_to_the_partition_the_java_client_picks(key: bytes, java_hash: int, partitions: int) -> None:
    # Utils.toPositive(murmur2(key)) % numPartitions, from BuiltInPartitioner.partitionForKey.
    assert key_partition(key, partitions) == (java_hash & 0x7FFFFFFF) % partitions


@given(st.binary(max_size=200))
def test_murmur2_equals_kafka_python_s_for_any_key(key: bytes) -> None:
    assert murmur2(key) == kafka_python_murmur2(key)

"""The oracle's own verdicts, on made-up deliveries: it must fail what the
fault tests rely on it to fail (a lost record, a duplicate where the sink
promises exactly once, a record out of order, a record never put), and
pass a replay's duplicates where the sink is at least once."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402


def sent(*records):
    """(shard, seq, key, n) → the producer's (shard, seq, key, data)."""
    return [(shard, str(seq), key, oracle.record_data(n, key)) for shard, seq, key, n in records]


PUT = sent(("s0", 10, "a", 0), ("s0", 11, "b", 1), ("s0", 12, "a", 2), ("s1", 5, "c", 3),
           ("s1", 9, "c", 4))


class OracleTest(unittest.TestCase):
    def test_everything_once_in_order_passes(self):
        v = oracle.judge(PUT, {"s0": [0, 1, 2], "s1": [3, 4]}, oracle.by_shard)
        self.assertTrue(v.ok(exactly_once=True), v.summary())
        self.assertEqual((v.expected, v.delivered, v.duplicates), (5, 5, 0))

    def test_a_lost_record_fails_and_is_named(self):
        v = oracle.judge(PUT, {"s0": [0, 2], "s1": [3, 4]}, oracle.by_shard)
        self.assertFalse(v.ok(exactly_once=False))
        self.assertEqual(v.missing, [1])
        self.assertIn("first missing: [1]", v.summary())

    def test_a_replay_is_a_duplicate_allowed_only_at_least_once(self):
        v = oracle.judge(PUT, {"s0": [0, 1, 0, 1, 2], "s1": [3, 4, 4]}, oracle.by_shard)
        self.assertEqual(v.duplicates, 3)
        self.assertFalse(v.ok(exactly_once=True))
        self.assertTrue(v.ok(exactly_once=False), v.summary())

    def test_out_of_order_fails_per_lane(self):
        v = oracle.judge(PUT, {"s0": [0, 2, 1], "s1": [3, 4]}, oracle.by_shard)
        self.assertFalse(v.ok(exactly_once=False))
        self.assertEqual([lane for lane, _ in v.out_of_order], ["s0"])
        self.assertIn("got [2, 1], expected [1, 2]", v.summary())

    def test_order_per_key_ignores_the_order_between_keys(self):
        delivered = {"a": [0, 2], "b": [1], "c": [3, 4]}
        self.assertTrue(oracle.judge(PUT, delivered, oracle.by_key).ok(exactly_once=True))
        delivered["a"] = [2, 0]
        self.assertFalse(oracle.judge(PUT, delivered, oracle.by_key).ok(exactly_once=False))

    def test_a_record_never_put_fails(self):
        v = oracle.judge(PUT, {"s0": [0, 1, 2, 99], "s1": [3, 4]}, oracle.by_shard)
        self.assertFalse(v.ok(exactly_once=False))
        self.assertEqual(v.unexpected, [99])

    def test_unordered_sinks_are_judged_on_presence_only(self):
        v = oracle.judge(PUT, {"table": [4, 2, 0, 3, 1]}, oracle.by_shard, ordered=False)
        self.assertTrue(v.ok(exactly_once=True), v.summary())
        v = oracle.judge(PUT, {"table": [4, 2, 0, 3]}, oracle.by_shard, ordered=False)
        self.assertEqual(v.missing, [1])

    def test_one_list_is_sorted_into_lanes_by_where_each_record_was_put(self):
        lanes = oracle.lanes_from_numbers(PUT, [3, 0, 1, 4, 2, 7], oracle.by_shard)
        self.assertEqual(lanes, {"s0": [0, 1, 2], "s1": [3, 4], "?": [7]})

    def test_data_that_is_not_a_numbered_record_is_an_error(self):
        with self.assertRaises(ValueError):
            oracle.number_of(b"not json")


if __name__ == "__main__":
    unittest.main()

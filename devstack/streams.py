"""Reading a table's DynamoDB Stream the way Lambda's event source mapping does, for the local
stack's poller and the tests: every shard from its start, each record handed over once, in
order, as Lambda would give it to `chalicelib.consumers.changes.handle_records`."""

from __future__ import annotations

from typing import Any


class StreamReader:
    """Records come back until acknowledged: a batch whose handler raised is read again (with
    whatever arrived since), as Lambda retries a failed batch."""

    def __init__(self, streams_client: Any, dynamodb_client: Any, table_name: str) -> None:
        self._streams = streams_client
        self._dynamodb = dynamodb_client
        self._table = table_name
        self._stream_arn: str | None = None
        # shard -> the last sequence number fetched. A fresh iterator each time: moto swaps a
        # table's stream object when it rolls back a refused transaction, and an old iterator
        # would keep reading the abandoned one.
        self._last: dict[str, str] = {}
        self._pending: list[dict[str, Any]] = []

    def _arn(self) -> str:
        if self._stream_arn is None:
            table = self._dynamodb.describe_table(TableName=self._table)["Table"]
            self._stream_arn = table["LatestStreamArn"]
        return self._stream_arn

    def read(self) -> list[dict[str, Any]]:
        """The records not yet acknowledged, oldest first."""
        self._pending += self._fetch()
        return list(self._pending)

    def ack(self, count: int) -> None:
        """The first `count` records read were handled."""
        del self._pending[:count]

    def _fetch(self) -> list[dict[str, Any]]:
        """The records written since the last fetch, shard by shard."""
        arn = self._arn()
        shards = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            position = (
                {
                    "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                    "SequenceNumber": self._last[shard_id],
                }
                if shard_id in self._last
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self._streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, **position
            )["ShardIterator"]
            while iterator:
                page = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                if not page["Records"]:
                    break
                records += page["Records"]
                self._last[shard_id] = page["Records"][-1]["dynamodb"]["SequenceNumber"]
                iterator = page.get("NextShardIterator")
        return records


def as_handler_input(records: list[dict[str, Any]]) -> list[tuple[str, Any, str]]:
    """(event name, new image, event id) per record, as the consumer takes them."""
    return [(r["eventName"], r["dynamodb"].get("NewImage"), r["eventID"]) for r in records]

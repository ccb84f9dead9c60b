#!/usr/bin/python3
# tests/kafka/python_reader.py — an outside client reads the ledger's topic and checks it.
#
# Run by CTest with Debian's /usr/bin/python3, python3-kafka and python3-flatbuffers, nothing
# of ours but the schema: it generates Python code with `flatc --python` from schemas/, starts
# a ledger-broker, runs kafka_publish_city (a small synthetic city through the sequencer and the
# KafkaPublisher), then reads every message of the topic and
#   - skips repeats the way docs/kafka.md says (per partition, a position at or below the last
#     one applied is a repeat),
#   - checks the headers (position, type, schema, hash) against the decoded record,
#   - verifies the hash chain: each record's link.prev_hash is the previous record's hash,
#     hash = SHA-256(prev_hash || value), the last hash is the head the producer printed,
#   - sums contributions (ContributionAllocated employer + employee amounts by business type,
#     FlexibleContributionReceived amounts) and compares them with what the producer wrote.
# Exits 0 and prints "N passed, 0 failed" when everything matches.
#
# Usage: python_reader.py --flatc FLATC --schemas DIR --broker LEDGER_BROKER
#                         --publisher KAFKA_PUBLISH_CITY [--partitions N] [--topic T]

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flatc", required=True)
    parser.add_argument("--schemas", required=True)
    parser.add_argument("--broker", required=True)
    parser.add_argument("--publisher", required=True)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--topic", default="hpf.ledger.events")
    return parser.parse_args()


def generate_python(flatc, schemas, out_dir):
    files = sorted(os.path.join(schemas, f) for f in os.listdir(schemas) if f.endswith(".fbs"))
    subprocess.run([flatc, "--python", "-I", schemas, "-o", out_dir] + files, check=True)
    sys.path.insert(0, out_dir)


def start_broker(broker, partitions, topic):
    process = subprocess.Popen(
        [broker, "--partitions", str(partitions), "--topic", topic],
        stdout=subprocess.PIPE, text=True)
    bootstrap = process.stdout.readline().strip()
    if not bootstrap.startswith("127.0.0.1:"):
        process.kill()
        raise SystemExit(f"ledger-broker printed {bootstrap!r}, not a bootstrap address")
    return process, bootstrap


def read_topic(bootstrap, topic, expected_at_least):
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             group_id=None, api_version=(2, 0, 0),
                             consumer_timeout_ms=10000)
    partitions = sorted(consumer.partitions_for_topic(topic))
    assigned = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    end = consumer.end_offsets(assigned)
    total = sum(end.values())
    if total < expected_at_least:
        raise SystemExit(f"the topic holds {total} messages, fewer than {expected_at_least}")
    messages = []
    deadline = time.time() + 60
    while len(messages) < total and time.time() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            messages.extend(m for m in batch if m.offset < end[TopicPartition(topic, m.partition)])
    consumer.close()
    if len(messages) < total:
        raise SystemExit(f"read {len(messages)} of {total} messages")
    return len(partitions), messages


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= 20:
                print(f"FAILED: {what}", file=sys.stderr)


def main():
    args = parse_args()
    work = tempfile.mkdtemp(prefix="hpf-pyreader-")
    try:
        return check_topic(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_topic(args, work):
    generate_python(args.flatc, args.schemas, work)
    from hpf.schema.v1.BusinessType import BusinessType
    from hpf.schema.v1.ContributionAllocated import ContributionAllocated
    from hpf.schema.v1.Digest import Digest
    from hpf.schema.v1.EntityKind import EntityKind
    from hpf.schema.v1.Event import Event
    from hpf.schema.v1.FlexibleContributionReceived import FlexibleContributionReceived
    from hpf.schema.v1.Record import Record
    kind_names = {v: k for k, v in vars(EntityKind).items() if not k.startswith("_")}
    event_names = {v: k for k, v in vars(Event).items() if not k.startswith("_")}

    broker, bootstrap = start_broker(args.broker, args.partitions, args.topic)
    try:
        produced = subprocess.run(
            [args.publisher, "--bootstrap", bootstrap, "--topic", args.topic],
            check=True, stdout=subprocess.PIPE, text=True, timeout=300)
        expected = json.loads(produced.stdout.strip().splitlines()[-1])
        partition_count, messages = read_topic(bootstrap, args.topic, expected["records"])
    finally:
        broker.send_signal(signal.SIGTERM)
        broker_exit = broker.wait(timeout=30)

    checks = Checks()
    checks.check(broker_exit == 0, f"ledger-broker exited {broker_exit} on SIGTERM")
    checks.check(partition_count == args.partitions, f"{partition_count} partitions")
    checks.check(expected["rejected"] == 0, "the city's commands were all accepted")

    # Repeats skipped per partition; every position applied once.
    last_by_partition = {}
    by_position = {}
    partition_of_key = {}
    for m in messages:
        headers = {k: v.decode() for k, v in (m.headers or [])}
        position = int(headers["position"])
        if position <= last_by_partition.get(m.partition, 0):
            checks.check(position in by_position, f"repeat of unseen position {position}")
            continue
        last_by_partition[m.partition] = position
        by_position[position] = (m.key.decode(), bytes(m.value), headers)
        checks.check(partition_of_key.setdefault(m.key, m.partition) == m.partition,
                     f"key {m.key} in two partitions")
    head = expected["head_position"]
    checks.check(sorted(by_position) == list(range(1, head + 1)),
                 f"positions 1..{head} each applied once ({len(by_position)} distinct)")

    previous_hash = bytes(32)
    sums = {"remittance_count": 0, "remittance_fen": 0, "back_payment_count": 0,
            "back_payment_fen": 0, "flexible_count": 0, "flexible_fen": 0}
    for position in sorted(by_position):
        key, value, headers = by_position[position]
        checks.check(Record.RecordBufferHasIdentifier(value, 0), f"{position}: identifier HPF1")
        record = Record.GetRootAs(value, 0)
        envelope = record.Envelope()
        link = envelope.Link()
        checks.check(link.Position() == position, f"{position}: link position {link.Position()}")
        prev_hash = bytes(link.PrevHash(Digest()).Bytes())
        checks.check(prev_hash == previous_hash, f"{position}: prev_hash breaks the chain")
        record_hash = hashlib.sha256(prev_hash + value).digest()
        checks.check(headers.get("hash") == record_hash.hex(), f"{position}: hash header")
        previous_hash = record_hash
        checks.check(headers.get("schema") == "hpf.v1", f"{position}: schema header")
        checks.check(headers.get("type") == event_names.get(record.PayloadType()),
                     f"{position}: type header {headers.get('type')}")
        checks.check(key == f"{kind_names.get(envelope.StreamKind())}:{envelope.StreamId()}",
                     f"{position}: key {key}")
        if record.PayloadType() == Event.ContributionAllocated:
            allocation = ContributionAllocated()
            allocation.Init(record.Payload().Bytes, record.Payload().Pos)
            fen = allocation.EmployerAmountFen() + allocation.EmployeeAmountFen()
            kind = ("back_payment" if allocation.BusinessType() == BusinessType.BackPayment
                    else "remittance")
            sums[kind + "_count"] += 1
            sums[kind + "_fen"] += fen
        elif record.PayloadType() == Event.FlexibleContributionReceived:
            flexible = FlexibleContributionReceived()
            flexible.Init(record.Payload().Bytes, record.Payload().Pos)
            sums["flexible_count"] += 1
            sums["flexible_fen"] += flexible.AmountFen()
    checks.check(previous_hash.hex() == expected["head_hash"], "the last hash is the head")
    for name, value in sums.items():
        checks.check(value == expected[name], f"{name}: read {value}, wrote {expected[name]}")
    checks.check(sums["remittance_count"] > 0, "the city has contributions")
    # The read side: the fund summary folded from the same log by the projection runtime.
    checks.check(
        sums["remittance_count"] + sums["back_payment_count"]
        == expected["summary_contributions_count"],
        f"contributions counted from the topic = the fund summary's "
        f"({expected['summary_contributions_count']})")
    checks.check(
        sums["remittance_fen"] + sums["back_payment_fen"] == expected["summary_contributions_fen"],
        f"contributions summed from the topic = the fund summary's "
        f"({expected['summary_contributions_fen']} fen)")
    checks.check(
        sums["back_payment_count"] == expected["summary_back_payments_count"]
        and sums["back_payment_fen"] == expected["summary_back_payments_fen"],
        "back-payments from the topic = the fund summary's")

    print(f"read {len(messages)} messages, {len(by_position)} records; contributions "
          f"{sums['remittance_count']} ({sums['remittance_fen']} fen), back-payments "
          f"{sums['back_payment_count']} ({sums['back_payment_fen']} fen)")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

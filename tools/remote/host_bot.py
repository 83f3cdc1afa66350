#!/usr/bin/env python3
"""A minimal BuildGrid worker ("host-tools" bot) that runs actions on this host.

BuildGrid on PyPI (0.0.86 .. 0.4.4) ships only the server: its own workers are
buildbox-worker + buildbox-casd + buildbox-run, C++ programs that are neither
on PyPI nor in Debian. The old pure-Python `bgd bot host-tools` was removed
before the first PyPI release. This file stands in for it, speaking the same
two protocols a real worker speaks:

  * Remote Workers API v1test2 (google.devtools.remoteworkers.v1test2.Bots):
    CreateBotSession / UpdateBotSession to take and complete leases;
  * REAPI v2 CAS + ByteStream: fetch the Action, Command and input root, and
    upload the outputs, stdout and stderr.

Each lease's action runs in a fresh directory under --work-dir, with only the
Command's environment, its arguments as argv, and no sandbox beyond that: tools
with absolute paths (/usr/bin/gcc, Debian's libtorch under /usr/lib) are the
host's. --bots N runs N independent single-lease bot sessions (one per core).
The worker advertises its platform properties with --property KEY=VALUE (e.g.
OSFamily=linux, Pool=cpu); BuildGrid only hands it actions whose platform
properties are a subset of these.

Uses the protobuf modules bundled in the `buildgrid` wheel (and grpcio), so it
runs in the same virtual environment as `bgd server`.
"""

import argparse
import concurrent.futures
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import grpc
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2 as re_pb2
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2_grpc as re_grpc
from buildgrid._protos.google.bytestream import bytestream_pb2, bytestream_pb2_grpc
from buildgrid._protos.google.devtools.remoteworkers.v1test2 import bots_pb2, bots_pb2_grpc, worker_pb2
from buildgrid._protos.google.rpc import code_pb2

LOG = logging.getLogger("host_bot")

# BotStatus / LeaseState values of the v1test2 protos.
BOT_OK = bots_pb2.BotStatus.Value("OK")
LEASE_ACTIVE = bots_pb2.LeaseState.Value("ACTIVE")
LEASE_COMPLETED = bots_pb2.LeaseState.Value("COMPLETED")

BATCH_LIMIT = 2 * 1024 * 1024  # bytes per BatchRead/BatchUpdate call (gRPC's default cap is 4 MiB)
CHUNK = 1024 * 1024


def _digest(data):
    return re_pb2.Digest(hash=hashlib.sha256(data).hexdigest(), size_bytes=len(data))


class Cas:
    """CAS client with a local, hard-linked file cache."""

    def __init__(self, channel, instance, cache_dir):
        self.instance = instance
        self.cas = re_grpc.ContentAddressableStorageStub(channel)
        self.bs = bytestream_pb2_grpc.ByteStreamStub(channel)
        self.cache_dir = cache_dir
        os.makedirs(cache_dir, exist_ok=True)
        self.lock = threading.Lock()

    def _cache_path(self, d, executable):
        return os.path.join(self.cache_dir, d.hash[:2], "%s_%d%s" % (d.hash, d.size_bytes, "x" if executable else ""))

    # -- reading
    def read_blob(self, d):
        if d.size_bytes == 0:
            return b""
        if d.size_bytes < BATCH_LIMIT:
            resp = self.cas.BatchReadBlobs(re_pb2.BatchReadBlobsRequest(instance_name=self.instance, digests=[d]))
            r = resp.responses[0]
            if r.status.code != code_pb2.OK:
                raise RuntimeError("BatchReadBlobs %s: %s" % (d.hash, r.status.message))
            return r.data
        name = "%s/blobs/%s/%d" % (self.instance, d.hash, d.size_bytes) if self.instance else "blobs/%s/%d" % (d.hash, d.size_bytes)
        return b"".join(r.data for r in self.bs.Read(bytestream_pb2.ReadRequest(resource_name=name)))

    def read_message(self, d, cls):
        m = cls()
        m.ParseFromString(self.read_blob(d))
        return m

    def _fetch_into_cache(self, wanted):
        """wanted: {(hash, size, executable): Digest} not yet cached."""
        batch, size = [], 0

        def flush():
            if not batch:
                return
            resp = self.cas.BatchReadBlobs(re_pb2.BatchReadBlobsRequest(instance_name=self.instance, digests=[d for d, _ in batch]))
            by_hash = {r.digest.hash: r for r in resp.responses}
            for d, ex in batch:
                r = by_hash[d.hash]
                if r.status.code != code_pb2.OK:
                    raise RuntimeError("BatchReadBlobs %s: %s" % (d.hash, r.status.message))
                self._store(d, ex, r.data)
            batch.clear()

        for (_, _, ex), d in wanted.items():
            if d.size_bytes >= BATCH_LIMIT:
                self._store(d, ex, self.read_blob(d))
                continue
            if size + d.size_bytes > BATCH_LIMIT:
                flush()
                size = 0
            batch.append((d, ex))
            size += d.size_bytes
        flush()

    def _store(self, d, executable, data):
        path = self._cache_path(d, executable)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o555 if executable else 0o444)
        os.replace(tmp, path)

    def materialize(self, root_digest, dest):
        """Lay out the input root under dest (files hard-linked from the cache)."""
        dirs = {}
        page = ""
        while True:
            for resp in self.cas.GetTree(re_pb2.GetTreeRequest(instance_name=self.instance, root_digest=root_digest, page_token=page)):
                for directory in resp.directories:
                    dirs[_digest(directory.SerializeToString()).hash] = directory
                page = resp.next_page_token
            if not page:
                break
        if root_digest.size_bytes == 0:
            dirs[root_digest.hash] = re_pb2.Directory()
        files = []  # (path, digest, executable)
        links = []

        def walk(d_hash, path):
            directory = dirs[d_hash]
            os.makedirs(path, exist_ok=True)
            for f in directory.files:
                files.append((os.path.join(path, f.name), f.digest, f.is_executable))
            for s in directory.symlinks:
                links.append((os.path.join(path, s.name), s.target))
            for sub in directory.directories:
                walk(sub.digest.hash, os.path.join(path, sub.name))

        walk(root_digest.hash, dest)
        with self.lock:
            wanted = {}
            for _, d, ex in files:
                if not os.path.exists(self._cache_path(d, ex)):
                    wanted[(d.hash, d.size_bytes, ex)] = d
            self._fetch_into_cache(wanted)
        for path, d, ex in files:
            os.link(self._cache_path(d, ex), path)
        for path, target in links:
            os.symlink(target, path)
        return len(files)

    # -- writing
    def upload(self, blobs):
        """blobs: {hash: (Digest, bytes-or-path)}; uploads the missing ones."""
        if not blobs:
            return
        missing = self.cas.FindMissingBlobs(re_pb2.FindMissingBlobsRequest(
            instance_name=self.instance, blob_digests=[d for d, _ in blobs.values()])).missing_blob_digests
        batch, size = [], 0

        def data_of(src):
            if isinstance(src, bytes):
                return src
            with open(src, "rb") as f:
                return f.read()

        def flush():
            if batch:
                resp = self.cas.BatchUpdateBlobs(re_pb2.BatchUpdateBlobsRequest(instance_name=self.instance, requests=batch))
                for r in resp.responses:
                    if r.status.code != code_pb2.OK:
                        raise RuntimeError("BatchUpdateBlobs %s: %s" % (r.digest.hash, r.status.message))
                batch.clear()

        for d in missing:
            _, src = blobs[d.hash]
            if d.size_bytes >= BATCH_LIMIT:
                self._write(d, data_of(src))
                continue
            if size + d.size_bytes > BATCH_LIMIT:
                flush()
                size = 0
            batch.append(re_pb2.BatchUpdateBlobsRequest.Request(digest=d, data=data_of(src)))
            size += d.size_bytes
        flush()

    def _write(self, d, data):
        name = "uploads/%s/blobs/%s/%d" % (uuid.uuid4(), d.hash, d.size_bytes)
        if self.instance:
            name = self.instance + "/" + name

        def requests():
            off = 0
            while True:
                chunk = data[off:off + CHUNK]
                last = off + len(chunk) >= len(data)
                yield bytestream_pb2.WriteRequest(resource_name=name if off == 0 else "", write_offset=off, data=chunk, finish_write=last)
                off += len(chunk)
                if last:
                    return

        self.bs.Write(requests())


def _file_digest(path):
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
            n += len(chunk)
    return re_pb2.Digest(hash=h.hexdigest(), size_bytes=n)


def _tree(path, blobs):
    """Directory proto for path, adding its files to blobs; returns (Directory, [children])."""
    d = re_pb2.Directory()
    children = []
    for name in sorted(os.listdir(path)):
        p = os.path.join(path, name)
        if os.path.isdir(p):
            sub, sub_children = _tree(p, blobs)
            data = sub.SerializeToString()
            dg = _digest(data)
            d.directories.add(name=name, digest=dg)
            children.append(sub)
            children.extend(sub_children)
        elif os.path.isfile(p):
            dg = _file_digest(p)
            blobs[dg.hash] = (dg, p)
            d.files.add(name=name, digest=dg, is_executable=os.access(p, os.X_OK))
    return d, children


def execute(cas, action, work_root, keep):
    """Runs one Action; returns an ActionResult."""
    command = cas.read_message(action.command_digest, re_pb2.Command)
    root = tempfile.mkdtemp(prefix="action-", dir=work_root)
    try:
        t0 = time.time()
        n_inputs = cas.materialize(action.input_root_digest, root)
        t1 = time.time()
        cwd = os.path.join(root, command.working_directory)
        outputs = list(command.output_paths) or (list(command.output_files) + list(command.output_directories))
        for out in outputs:
            os.makedirs(os.path.dirname(os.path.join(cwd, out)) or cwd, exist_ok=True)
        env = {v.name: v.value for v in command.environment_variables}
        timeout = action.timeout.seconds or None
        result = re_pb2.ActionResult()
        try:
            proc = subprocess.run(list(command.arguments), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
            result.exit_code = proc.returncode
            stdout, stderr = proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as e:
            result.exit_code = 124
            stdout, stderr = e.stdout or b"", (e.stderr or b"") + b"\nhost_bot: action timed out\n"
        except OSError as e:
            result.exit_code = 127
            stdout, stderr = b"", ("host_bot: cannot run %r: %s\n" % (list(command.arguments), e)).encode()
        t2 = time.time()
        blobs = {}
        for data, field in ((stdout, "stdout_digest"), (stderr, "stderr_digest")):
            dg = _digest(data)
            blobs[dg.hash] = (dg, data)
            getattr(result, field).CopyFrom(dg)
        for out in outputs:
            p = os.path.join(cwd, out)
            if os.path.isdir(p) and not os.path.islink(p):
                root_dir, children = _tree(p, blobs)
                tree = re_pb2.Tree(root=root_dir, children=children)
                data = tree.SerializeToString()
                dg = _digest(data)
                blobs[dg.hash] = (dg, data)
                result.output_directories.add(path=out, tree_digest=dg)
            elif os.path.isfile(p):
                dg = _file_digest(p)
                blobs[dg.hash] = (dg, p)
                result.output_files.add(path=out, digest=dg, is_executable=os.access(p, os.X_OK))
        cas.upload(blobs)
        t3 = time.time()
        LOG.info("exit=%d inputs=%d stage=%.2fs run=%.2fs upload=%.2fs argv0=%s", result.exit_code, n_inputs,
                 t1 - t0, t2 - t1, t3 - t2, command.arguments[0] if command.arguments else "")
        return result
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def bot_loop(args, index, stop):
    channel = grpc.insecure_channel(args.remote, options=[
        ("grpc.max_receive_message_length", 64 * 1024 * 1024),
        ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ])
    bots = bots_pb2_grpc.BotsStub(channel)
    cas = Cas(channel, args.instance_name, os.path.join(args.work_dir, "cache"))
    work_root = os.path.join(args.work_dir, "actions")
    os.makedirs(work_root, exist_ok=True)

    worker = worker_pb2.Worker()
    device = worker.devices.add(handle="%s-%d" % (socket.gethostname(), index))
    for prop in args.property:
        key, _, value = prop.partition("=")
        device.properties.add(key=key, value=value)
    session = bots_pb2.BotSession(bot_id="%s-host-bot-%d-%d" % (socket.gethostname(), os.getpid(), index),
                                  status=BOT_OK, worker=worker)
    while not stop.is_set():
        try:
            session = bots.CreateBotSession(bots_pb2.CreateBotSessionRequest(parent=args.instance_name, bot_session=session), timeout=30)
            break
        except grpc.RpcError as e:
            LOG.warning("bot %d: CreateBotSession: %s; retrying", index, e.code())
            time.sleep(2)
    LOG.info("bot %d: session %s (properties %s)", index, session.name, ", ".join(args.property))

    while not stop.is_set():
        for lease in session.leases:
            if lease.state != LEASE_ACTIVE:
                continue
            try:
                if lease.payload.Is(re_pb2.Action.DESCRIPTOR):
                    action = re_pb2.Action()
                    lease.payload.Unpack(action)
                else:
                    digest = re_pb2.Digest()
                    lease.payload.Unpack(digest)
                    action = cas.read_message(digest, re_pb2.Action)
                result = execute(cas, action, work_root, args.keep)
                lease.result.Pack(result)
                lease.status.code = code_pb2.OK
            except Exception as e:  # report, do not die
                LOG.exception("bot %d: lease %s failed", index, lease.id)
                lease.status.code = code_pb2.INTERNAL
                lease.status.message = "host_bot: %s" % e
            lease.state = LEASE_COMPLETED
        try:
            session = bots.UpdateBotSession(bots_pb2.UpdateBotSessionRequest(name=session.name, bot_session=session), timeout=30)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                LOG.warning("bot %d: UpdateBotSession: %s %s", index, e.code(), e.details())
                time.sleep(1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--remote", default="127.0.0.1:50051", help="BuildGrid endpoint host:port")
    p.add_argument("--instance-name", default="main")
    p.add_argument("--bots", type=int, default=os.cpu_count() or 1, help="parallel single-lease bot sessions")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "host_bot"))
    p.add_argument("--property", action="append", default=[], help="KEY=VALUE platform property (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep each action's directory (debugging)")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.bots) as pool:
        futures = [pool.submit(bot_loop, args, i, stop) for i in range(args.bots)]
        try:
            while not stop.is_set():
                time.sleep(0.5)
        except KeyboardInterrupt:
            stop.set()
        for f in futures:
            f.result()


if __name__ == "__main__":
    sys.exit(main())

"""The harness's Python fork server: one interpreter that has imported torch
(CUDA untouched) and forks one child per Python cell, instead of a fresh
interpreter and `import torch` per cell.

    python fork_server.py SOCKET

The harness (harness/strategy/python_fork_server.h) starts it with the
LD_PRELOAD its cells need (the CUPTI injection library, and the virtual CUDA
runtime for virtual GPUs), waits for the line "ready", and stops it with
SIGTERM. Per cell a client connects to SOCKET and sends one JSON line,
with the file descriptor the cell's output goes to attached (SCM_RIGHTS):

    {"argv": ["python", "loader.py", ...], "env": {...}, "cwd": "...",
     "memory_limit_bytes": 0}

The server answers {"refused": why} when the cell needs a fresh process
(variables read while a process loads differ from its own: LD_PRELOAD,
LD_LIBRARY_PATH, PYTHON*), else {"pid": N}, then, when the child has ended,
{"exit": code} or {"signal": number}. A client that goes away before that
(its worker timed out or was killed) takes the child's process group with it.

The child leads a process group of its own, takes the cell's environment,
directory and data limit, tells the preloaded harness libraries about the
cell (harness_cupti_begin_image: its own report directory;
harness_virtual_cuda_reconfigure: its own virtual devices), and runs the
script as `python loader.py ...` would, as __main__.
"""

import ctypes
import json
import os
import resource
import runpy
import selectors
import signal
import socket
import sys
import traceback

# Read by the dynamic loader or the interpreter while a process starts: a
# forked child cannot take other values.
LOAD_TIME = ("LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "PYTHONSAFEPATH")


def refusal(request):
    if not isinstance(request, dict) or not isinstance(request.get("env", {}), dict):
        return "the request is no JSON object with an env object"
    if not isinstance(request.get("argv"), list) or len(request["argv"]) < 2:
        return "argv must name the interpreter and a script"
    if os.path.realpath(request["argv"][0]) != os.path.realpath(sys.executable):
        return f"another interpreter ({request['argv'][0]}; the server runs {sys.executable})"
    env = request.get("env", {})
    for name in LOAD_TIME:
        if env.get(name) != os.environ.get(name):
            return f"{name} differs from the server's"
    return None


def run_child(request, out_fd):
    """In the forked child: becomes the cell and never returns."""
    code = 1
    try:
        os.setpgid(0, 0)  # the parent sets it too: whoever runs first
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(out_fd)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request.get("cwd") or ".")
        limit = int(request.get("memory_limit_bytes") or 0)
        if limit > 0:
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        process = ctypes.CDLL(None)
        trace_dir = os.environ.get("HARNESS_CUPTI_OUTPUT_DIR")
        if trace_dir and hasattr(process, "harness_cupti_begin_image"):
            process.harness_cupti_begin_image(trace_dir.encode())
        if hasattr(process, "harness_virtual_cuda_reconfigure"):
            process.harness_virtual_cuda_reconfigure.restype = ctypes.c_char_p
            refused = process.harness_virtual_cuda_reconfigure()
            if refused:
                print("virtual CUDA runtime: " + refused.decode(), file=sys.stderr)
        script = request["argv"][1]
        sys.argv = request["argv"][1:]
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:  # the script's own failure, as the interpreter prints it
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code & 0xFF)


class Cell:
    def __init__(self, conn):
        self.conn = conn
        self.buffer = b""
        self.out_fd = None
        self.pid = None
        self.pidfd = None


def reply(conn, message):
    try:
        conn.sendall((json.dumps(message) + "\n").encode())
    except OSError:
        pass


def main():
    path = sys.argv[1]
    import torch  # noqa: F401  the point of the server: imported once

    try:  # what the harness's own loaders import, where installed
        import numpy  # noqa: F401
        import safetensors.torch  # noqa: F401
    except ImportError:
        pass
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    os.close(os.pidfd_open(os.getpid()))  # Linux >= 5.3: refuse to start rather than fail a cell
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    print("ready", flush=True)

    cells = set()

    def finish(cell, status):
        reply(cell.conn, status)
        cells.discard(cell)
        if cell.out_fd is not None and cell.pid is None:
            os.close(cell.out_fd)
            cell.out_fd = None
        for f in (cell.pidfd, cell.conn):
            if f is not None:
                try:
                    selector.unregister(f)
                except (KeyError, ValueError):
                    pass
        if cell.pidfd is not None:
            os.close(cell.pidfd)
        cell.conn.close()

    while not stopping:
        try:
            events = selector.select(timeout=1.0)
        except InterruptedError:
            continue
        for key, _ in events:
            if key.fileobj is listener:
                try:
                    conn, _ = listener.accept()
                except OSError:  # out of descriptors: the client falls back
                    continue
                cell = Cell(conn)
                cells.add(cell)
                selector.register(conn, selectors.EVENT_READ, cell)
                continue
            cell = key.data
            if key.fileobj is cell.pidfd:  # the child ended; what it started goes too
                _, status = os.waitpid(cell.pid, 0)
                try:
                    os.killpg(cell.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                if os.WIFSIGNALED(status):
                    finish(cell, {"signal": os.WTERMSIG(status)})
                else:
                    finish(cell, {"exit": os.WEXITSTATUS(status)})
                continue
            # The client's request, or its going away.
            try:
                data, fds, _, _ = socket.recv_fds(cell.conn, 1 << 16, 1)
            except OSError:
                data, fds = b"", []
            for fd in fds:
                if cell.out_fd is None:
                    cell.out_fd = fd
                else:
                    os.close(fd)
            if cell.pid is not None:
                if not data:  # gone while its child runs: the child goes too
                    kill_cell(cell.pid)
                    selector.unregister(cell.conn)
                continue
            if not data:
                finish(cell, {"refused": "no request"})
                continue
            cell.buffer += data
            if b"\n" not in cell.buffer:
                continue
            try:
                request = json.loads(cell.buffer.split(b"\n", 1)[0])
                why = refusal(request) if cell.out_fd is not None else "no output descriptor attached"
            except ValueError as e:
                why = f"request is no JSON: {e}"
            if why:
                finish(cell, {"refused": why})
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the child holds nothing of the server's, nor of other cells
                for other in list(selector.get_map().values()):
                    fd = other.fileobj if isinstance(other.fileobj, int) else other.fileobj.fileno()
                    os.close(fd)
                for other in cells:
                    if other is not cell and other.out_fd is not None and other.pid is None:
                        os.close(other.out_fd)
                run_child(request, cell.out_fd)
            try:
                os.setpgid(pid, pid)
            except OSError:  # the child did it already, or has ended
                pass
            os.close(cell.out_fd)
            cell.out_fd = None
            cell.pid = pid
            cell.pidfd = os.pidfd_open(pid)
            selector.register(cell.pidfd, selectors.EVENT_READ, cell)
            reply(cell.conn, {"pid": pid})
    for cell in cells:  # stopped: no cell outlives the server
        if cell.pid is not None:
            kill_cell(cell.pid)
            os.waitpid(cell.pid, 0)
    listener.close()
    os.unlink(path)


def kill_cell(pid):
    """The cell's process group, or the cell alone before it made one."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    main()

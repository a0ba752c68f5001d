"""Run by an image's environment's interpreter: import its framework once, then fork a process per job.

Standard library only: it runs in the image's environment, which has none of
mlrelay's dependencies. One request per line on stdin (the job's arguments,
folder, environment, output files), the forked job's pid per line on a private
copy of stdout (what the preloaded libraries print goes nowhere); every job's
exit code lands in its exit file, written by the job, or by this server when the
job ended otherwise (a signal, os._exit). The server ends when its stdin closes,
that is when the stack's process does.
"""

import atexit
import gc
import json
import os
import runpy
import sys
import threading
import time
import traceback

sys.path.pop(0)  # this file's folder: its modules are not the job's
BASE_PATH = list(sys.path)
_lock = threading.Lock()
_exit_paths: dict[int, str] = {}  # pid -> its exit file, while it runs
_ended_early: dict[int, int] = {}  # pid -> wait status of a job reaped before its exit file was known


def main():
    replies = os.fdopen(os.dup(1), "w")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    for name in sys.argv[1:]:
        try:
            __import__(name)
        except Exception:  # a library this image lacks is skipped # nosec B110
            pass
    threading.Thread(target=_reap, daemon=True).start()
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _run(job)
            finally:
                os._exit(1)
        with _lock:
            if pid in _ended_early:
                _record(job["exit"], _ended_early.pop(pid))
            else:
                _exit_paths[pid] = job["exit"]
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()


def _reap():
    """The jobs are this process's children: collected as they end, and their exit code recorded if they wrote none."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            time.sleep(0.05)
            continue
        with _lock:
            path = _exit_paths.pop(pid, None)
            if path is None:
                _ended_early[pid] = status
            else:
                _record(path, status)


def _record(path, status):
    if not os.path.exists(path):
        with open(path, "w") as handle:
            handle.write(str(os.waitstatus_to_exitcode(status)))


def _run(job):
    """In the fork: become the job's process, run its program as __main__, record its exit code, and end."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # the requests' pipe is the server's
        for target, path, flags in ((1, job["stdout"], os.O_APPEND), (2, job["stderr"], os.O_TRUNC)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | flags)
            os.dup2(descriptor, target)
            os.close(descriptor)
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        if "numpy" in sys.modules:  # numpy's global random state is not reseeded by a fork, as a new process's is
            sys.modules["numpy"].random.seed()
        extra = [p for p in job["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
        arguments = job["arguments"]
        if arguments[0] == "-m":
            sys.argv = [arguments[1], *arguments[2:]]
            sys.path[:] = [job["cwd"], *extra, *BASE_PATH]
            runpy.run_module(arguments[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(arguments)
            sys.path[:] = [os.path.dirname(arguments[0]), *extra, *BASE_PATH]
            runpy.run_path(arguments[0], run_name="__main__")
        code = 0
    except SystemExit as stop:  # as the interpreter does: a number is the code, a message goes to stderr with 1
        if isinstance(stop.code, int):
            code = stop.code & 0xFF
        elif stop.code is None:
            code = 0
        else:
            print(stop.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    _shut_down()
    with open(job["exit"], "w") as handle:
        handle.write(str(code))
    os._exit(code)


def _shut_down():
    """What an interpreter does on its way out: atexit functions, collected objects closed, buffers flushed."""
    try:
        atexit._run_exitfuncs()
        gc.collect()
        sys.stdout.flush()
        sys.stderr.flush()
        import ctypes

        ctypes.CDLL(None).fflush(None)  # a native library's printf buffer
    except Exception:  # the exit code is recorded whatever the shutdown met # nosec B110
        pass


if __name__ == "__main__":
    main()

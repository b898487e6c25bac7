#!/usr/bin/python3
"""Runs one test script's main() for many models in one Python process.

    pybatch.py SCRIPT RESULTS [COMMON ARGS...] --job NAME ARGS... [--job NAME ARGS...]

The PyTorch tests (tests/parity/parity.py, tests/pytorch/check.py) spend
most of their time importing torch (~2.5 s of ~3 s per model on two
shared cores); one CTest test per model paid it each time. CTest now runs
a batch of models per process (this script, a fixture setup test) and one
test per model that reports that model's result (pybatch_result.sh), so
every model still passes, fails or is skipped on its own, under its own
name.

For each job: sys.argv is set to SCRIPT COMMON ARGS... ARGS..., the
script's main() runs with stdout and stderr (file descriptors 1 and 2, so
its subprocesses' output too) sent to RESULTS/NAME.log, and its exit status
(main's return value, a SystemExit's code, 1 for any other exception, whose
traceback goes to the log) is written to RESULTS/NAME.rc. A script that
exits while being imported (status 77: no torch) gives every job that
status and message. The results of this batch's jobs are removed before
it starts, so a result is never left over from an earlier run. This
script's own output: one line per job; it exits 0 when every job has a
result (a failed model is reported by its own test), 2 on bad arguments.
"""
import importlib.util
import os
import sys
import time
import traceback


def parse(argv):
    if len(argv) < 3 or "--job" not in argv:
        print(__doc__.split("\n\n")[1])
        sys.exit(2)
    script, results = argv[1], argv[2]
    first = argv.index("--job")
    common = argv[3:first]
    jobs = []
    for arg in argv[first:]:
        if arg == "--job":
            jobs.append([])
        else:
            jobs[-1].append(arg)
    if any(not job for job in jobs):
        print("pybatch.py: --job without a name")
        sys.exit(2)
    return script, results, common, [(job[0], job[1:]) for job in jobs]


class Redirect:
    """Points file descriptors 1 and 2 (and sys.stdout/err) at a file."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = (os.dup(1), os.dup(2))
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)

    def __exit__(self, *exc):
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        os.close(self.saved[0])
        os.close(self.saved[1])
        return False


def exit_code(e):
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    print(e.code)
    return 1


def main():
    script, results, common, jobs = parse(sys.argv)
    os.makedirs(results, exist_ok=True)
    for name, _ in jobs:
        for ext in (".log", ".rc"):
            if os.path.exists(os.path.join(results, name + ext)):
                os.remove(os.path.join(results, name + ext))
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    module = None
    import_rc = 0
    first_log = os.path.join(results, jobs[0][0] + ".log")
    with Redirect(first_log):
        try:
            spec = importlib.util.spec_from_file_location(
                os.path.splitext(os.path.basename(script))[0], script)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except SystemExit as e:
            import_rc = exit_code(e)
        except Exception:
            traceback.print_exc()
            import_rc = 1
    if module is None or import_rc:
        with open(first_log) as f:
            message = f.read()
        for name, _ in jobs:
            with open(os.path.join(results, name + ".log"), "w") as f:
                f.write(message)
            with open(os.path.join(results, name + ".rc"), "w") as f:
                f.write(f"{import_rc or 1}\n")
            print(f"{name}: exit {import_rc or 1} while importing {script}")
        return 0
    for name, args in jobs:
        sys.argv = [script] + common + args
        start = time.monotonic()
        with Redirect(os.path.join(results, name + ".log")):
            try:
                rc = module.main() or 0
            except SystemExit as e:
                rc = exit_code(e)
            except Exception:
                traceback.print_exc()
                rc = 1
        with open(os.path.join(results, name + ".rc"), "w") as f:
            f.write(f"{rc}\n")
        print(f"{name}: exit {rc} ({time.monotonic() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m course_lib list | run <experiment> | check <exercise> | hint
<exercise> | submit``.

Examples::

    python -m course_lib list
    python -m course_lib list --check
    python -m course_lib run vickrey --quick --json metrics.json
    python -m course_lib run minigrid-transfer --observation pixels --optimizer sgd
    COURSE_LIB_REFERENCE=all python -m course_lib run vickrey
    python -m course_lib check 1.2
    python -m course_lib check 1.2 --verbose
    python -m course_lib hint 1.3
    python -m course_lib submit
    python -m course_lib submit --no-tests --out ~/Desktop/submission.zip
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import config, exercises
from .experiments import EXPERIMENTS, get_experiment, run_experiment


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib",
        description="Markets of Agents: run a chapter's experiment; list, check or get hints "
                    "for exercises.")
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="list exercises and experiments")
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_list.add_argument("--check", action="store_true",
                        help="also run each written exercise's public tests on your code")

    p_run = sub.add_parser("run", help="run a chapter's headline experiment")
    p_run.add_argument("experiment", choices=sorted(EXPERIMENTS))
    p_run.add_argument("--quick", action="store_true", help="small budgets (as in CI)")
    p_run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p_run.add_argument("--json", metavar="PATH", help="also write the metrics to PATH")
    # A copy without the reference solutions (the student copy) does not offer them.
    p_run.add_argument("--reference", metavar="IDS",
                       help='use reference solutions: "all" or ids like "1.1,1.2"'
                       if exercises.solutions_available() else argparse.SUPPRESS)
    p_run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p_run.add_argument("--observation", choices=("compact", "pixels"),
                       help="minigrid-transfer: what the learners see (default compact)")
    p_run.add_argument("--optimizer", choices=("adam", "sgd"),
                       help="minigrid-transfer: the learners' optimizer (default adam)")

    p_check = sub.add_parser("check", help="run one exercise's public tests on your code")
    p_check.add_argument("exercise", help='an exercise id such as "1.2"')
    p_check.add_argument("--verbose", "-v", action="store_true",
                         help="show pytest's full output for each failing test")

    p_hint = sub.add_parser("hint", help="show an exercise's next hint (again: the one after)")
    p_hint.add_argument("exercise", help='an exercise id such as "1.3"')
    p_hint.add_argument("--level", type=int, metavar="N",
                        help="show hint N instead (1 = the first) and go on from there")

    p_submit = sub.add_parser(
        "submit", help="run the public tests and pack your work into submission.zip",
        description="Run every exercise's public tests on your code (failing tests do not "
                    "stop you submitting), check the files the grader reads (the exercise "
                    "modules and the notebooks) and write them, and nothing else, into a zip.")
    p_submit.add_argument("--out", metavar="PATH",
                          help="where to write the zip (default: submission.zip in the course "
                               "folder; an existing file is replaced)")
    p_submit.add_argument("--no-tests", action="store_true", help="skip the public tests")
    p_submit.add_argument("--only", metavar="IDS",
                          help='run the public tests of these exercises only ("1.2" or '
                               '"1.1,2.3"); the zip still holds every file')
    p_submit.add_argument("--root", metavar="FOLDER",
                          help="the course folder to submit (default: the one holding this "
                               "course_lib)")
    return parser


def _experiment_title(name: str) -> str:
    """The experiment's title; if its module (or one it imports) does not load, say where."""
    try:
        return get_experiment(name).TITLE
    except Exception as err:  # e.g. a syntax error in an exercise module: list must still work
        return f"(cannot be loaded: {exercises.describe_error(err)})"


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(exercises.format_catalog(rows))
    print()
    print("experiments:")
    width = max(len(name) for name in EXPERIMENTS)
    for name in EXPERIMENTS:
        print(f"  {name:<{width}}  {_experiment_title(name)}")


def _check(exercise_id: str, verbose: bool) -> int:
    """The check report, worded for the command line (--reference, --verbose)."""
    report = exercises.check(exercise_id, verbose=verbose, quiet=True)
    print(report.text(audience="cli"))
    return 0 if report.passed else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            rows = exercises.catalog()
            if args.check:
                from .submit import with_test_results

                rows = with_test_results(rows)
            if args.json:
                experiments = {n: _experiment_title(n) for n in EXPERIMENTS}
                print(json.dumps({"exercises": rows, "experiments": experiments}, indent=2))
            else:
                _print_table(rows)
            return 0
        if args.command == "check":
            return _check(args.exercise, args.verbose)
        if args.command == "submit":
            from .submit import SubmissionError, submit

            try:
                submit(args.root, args.out, tests=not args.no_tests, only=args.only)
            except (SubmissionError, OSError) as err:
                lines = str(err).splitlines() or [type(err).__name__]
                text = lines[0] if len(lines) == 1 else "\n".join(["", *lines]).replace(
                    "\n", "\n  ")
                print(f"error: cannot submit: {text}", file=sys.stderr)
                return 2
            return 0
        if args.command == "hint":
            from . import hints

            rung = hints.next_hint(args.exercise, args.level)
            print(hints.format_hint(args.exercise, *rung, audience="cli"))
            return 0
        if args.reference:
            exercises.use_reference(*args.reference.split(","))
        config.check_seed(args.seed)
        variants = {key: getattr(args, key) for key in ("observation", "optimizer")
                    if getattr(args, key) is not None}
        metrics = run_experiment(args.experiment, quick=True if args.quick else None,
                                 seed=args.seed, progress=not args.no_progress, **variants)
    except exercises.ExerciseNotImplementedError as err:  # worded for here: --reference
        print(f"error: {exercises.not_implemented_message(err, 'cli')}", file=sys.stderr)
        return 2
    except SyntaxError as err:  # in an exercise module: name the file and the line
        print(f"error: {exercises.describe_error(err)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    text = json.dumps(metrics, indent=2)
    print(text)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

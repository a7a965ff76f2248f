# Thin wrappers; the README documents each target.
#   make lab        set up .venv and open JupyterLab on the welcome notebook
#   make test       set up .venv and run the whole test suite (what CI runs)
#   make notebooks  re-execute every notebook in full mode and save it with its outputs
#   make walkthrough  a learner's path: fresh clone, set-up, the student copy built from it,
#                   every notebook walked in order, each exercise solved where a cell stops
#   make colab      the Colab path on Colab's own package versions (tests/colab_runtime.toml):
#                   every notebook through its Colab set-up cell, without and with references
#   make browser-setup  Debian's Chromium and Playwright, for the real-browser test
#   make book       the course as a static website in build/book/html (Jupyter Book)
#   make lite       chapters 0-3 as an in-browser site in build/lite/html (JupyterLite, Pyodide)
#                   ([PYODIDE=release|URL|PATH]: the Pyodide distribution, release downloads
#                   it; [LITE_SITE=dir]: where the site goes)
#   make lint       ruff on the Python sources
#   make lock       requirements-lock.txt anew: the newest releases today, in a fresh venv
#   make release    write the student copy to dist/student and check that it is clean
#                   ([ASSIGNMENT=a1] [REPO=OWNER/NAME] [BRANCH=B])
#   make grade      grade every submission in SUBMISSIONS=dir/ into grades/ (CSV + reports)
#                   ([ASSIGNMENT=a1] [JOBS=2])
#   make sandbox-setup  install bubblewrap if needed (root) and check that the sandbox starts
#   make gradescope the Gradescope autograder zip in build/gradescope/autograder.zip
#                   ([ASSIGNMENT=a1])
#   make check-exercise ID=4.2  every check that exercise 4.2 is complete, one line each
#                   (QUICK=1: without the mutant and degenerate-answer runs)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
BOOK_STAMP := $(VENV)/.book-installed
# The environment CI and `make test` use: reference solutions on, small budgets, no display,
# and one thread per process for torch and numpy: the tests run TEST_JOBS at a time, and two
# thread pools on the same cores slow each other down far more than they gain (the course's
# networks are small).
TEST_ENV := COURSE_LIB_REFERENCE=all COURSE_LIB_QUICK=1 MPLBACKEND=Agg PYTHONHASHSEED=0 \
            OMP_NUM_THREADS=1
TEST_JOBS ?= 2
# The exact versions everything below installs (`make lock` writes them: scripts/lock.sh), as a
# pip constraints file: a package this platform does not need is simply not installed.
# LOCK=none: the newest releases allowed by requirements*.txt (CI's weekly run).
LOCK ?= requirements-lock.txt
LOCKED := $(if $(filter none,$(LOCK)),,-c $(LOCK))

.PHONY: setup lab test lint notebooks walkthrough colab browser-setup sandbox-setup book lite \
        release grade gradescope check-exercise clean lock

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt $(filter-out none,$(LOCK)) pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt $(LOCKED)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_welcome.ipynb

lint: $(STAMP)
	$(BIN)/ruff check course_lib classroom solutions tests scripts benchmarks

test: $(STAMP) lint
	$(TEST_ENV) $(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile \
	    --nbval-lax --nbval-current-env tests notebooks

notebooks: $(STAMP)
	$(BIN)/python scripts/sync_launch_cells.py
	COURSE_LIB_REFERENCE=all COURSE_LIB_QUICK=0 $(BIN)/python scripts/build_notebooks.py

walkthrough: $(STAMP)
	$(BIN)/python scripts/walkthrough.py

colab: $(STAMP)
	$(BIN)/python scripts/colab_rehearsal.py

browser-setup: $(STAMP)
	$(if $(LOCKED),PIP_CONSTRAINT=$(abspath $(LOCK))) scripts/setup_browser.sh $(BIN)/python

sandbox-setup: $(STAMP)
	scripts/setup_sandbox.sh $(BIN)/python

lock:
	scripts/lock.sh $(PYTHON)

# The website's build tools go into .venv once (requirements-book.txt); MathJax comes from npm.
book: $(BOOK_STAMP)
	$(BIN)/python scripts/build_book.py

$(BOOK_STAMP): $(STAMP) requirements-book.txt
	$(BIN)/python -m pip install --quiet -r requirements-book.txt $(LOCKED)
	touch $@

# The in-browser site: Pyodide trimmed to what chapters 0-3 load, with the wheels it lacks
# (scripts/build_lite.py). The Pages workflow publishes it under the website's lite/.
PYODIDE ?= release
LITE_SITE ?= build/lite/html
lite: $(STAMP)
	$(BIN)/python scripts/build_lite.py --pyodide $(PYODIDE) --site $(LITE_SITE)

# Optional, for a graded class: ASSIGNMENT=a1 (grading/assignments.toml), REPO=OWNER/NAME and
# BRANCH=B (the class repository the copy's badges and Colab cells point to), JOBS=N
# (submissions graded at a time; about the number of cores).
JOBS ?= 1
release: $(STAMP)
	$(BIN)/python -m classroom.release --out dist/student $(if $(REPO),--repo $(REPO)) \
	    $(if $(BRANCH),--branch $(BRANCH)) $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || \
	    (echo "usage: make grade SUBMISSIONS=dir/ [ASSIGNMENT=a1] [JOBS=2]"; exit 2)
	$(BIN)/python -m classroom.grade --batch $(SUBMISSIONS) --out-dir grades --hidden \
	    --jobs $(JOBS) $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

gradescope: $(STAMP)
	$(BIN)/python -m classroom.gradescope --out build/gradescope/autograder.zip \
	    $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

check-exercise: $(STAMP)
	@test -n "$(ID)" || (echo "usage: make check-exercise ID=4.2 [QUICK=1]"; exit 2)
	$(BIN)/python scripts/check_exercise.py $(ID) $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build

# Two commands matter: `make book` (build the book on the embedded default) and `make test`.
# Both create the virtual environment on first use.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv test test-fast book book-check book-real book-smoke clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11) on PATH, or run: make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@# byte-compile once (~25 s): with PYTHONDONTWRITEBYTECODE set, as on the CI machine, every process
	@# (each notebook kernel, each test subprocess) would otherwise recompile torch, scipy and the rest
	@# from source, ~10 s each. A file for a newer Python (torch's py312_intrinsics.py) cannot
	@# compile here and is reported; it is never imported on 3.11, so that does not stop the install.
	$(PY) -m compileall -q -j 0 $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') oodlib \
	  || echo "[venv] the files above did not byte-compile (syntax of a newer Python); everything else did"
	touch $(STAMP)

test: venv
	$(PY) -m pytest

test-fast: venv
	$(PY) -m pytest -m "not slow"

book: venv
	$(VENV)/bin/oodlib book --profile default

# After `make book`: every page opened in headless Chromium (Debian's chromium package), failing on
# console errors, broken links or anchors, images or audio that do not load, placeholders left in
# the text and empty "ours" columns; one screenshot per page in _build/screenshots/.
book-check: venv
	$(VENV)/bin/oodlib check-site _build/html

book-real: venv
	@test -n "$(OODLIB_DATA_DIR)" || { echo "set OODLIB_DATA_DIR to your data folder, e.g. OODLIB_DATA_DIR=../shared/data make book-real"; exit 1; }
	$(VENV)/bin/oodlib book --profile real

book-smoke: venv
	@test -n "$(OODLIB_DATA_DIR)" || { echo "set OODLIB_DATA_DIR to your data folder, e.g. OODLIB_DATA_DIR=../shared/data make book-smoke"; exit 1; }
	$(VENV)/bin/oodlib book --profile real-smoke --benchmark none
	$(VENV)/bin/oodlib check-records _build/real-smoke/records --smoke

# `make sweep`: the tour over seeds 0-4 on Dask (default profile); results in _build/sweeps/00_tour/.
# Another notebook or seeds: make sweep SWEEP_NOTEBOOK=notebooks/p3_av_ood.ipynb SWEEP_SEEDS=0-2
SWEEP_NOTEBOOK ?= notebooks/00_tour.ipynb
SWEEP_SEEDS    ?= 0-4
.PHONY: sweep
sweep: venv
	$(VENV)/bin/oodlib sweep $(SWEEP_NOTEBOOK) --seeds $(SWEEP_SEEDS) --profile default

clean:
	rm -rf _build

#!/bin/sh
# Run from an empty folder outside the repository holding dist/dmi-*.whl and example-bulk.csv:
# install the wheel in a fresh virtual environment and do the main jobs with its package data only.
set -eu
"$PYTHON" -m venv --without-pip env
wheel=$(ls dist/dmi-*.whl)
if [ -x "$UV" ]; then
	"$UV" pip install --quiet --python env/bin/python "$wheel[report]"
else
	env/bin/python -m ensurepip --default-pip >/dev/null && env/bin/python -m pip install --quiet "$wheel[report]"
fi
env/bin/dmi instrument list | grep -q miit-2024-manufacturing
env/bin/dmi score example-bulk.csv -o scores.csv --rejects rejects.csv --summary summary.json
env/bin/dmi report example-bulk.csv --row SYN-0000002 -o report.pdf --lang zh
head -c 5 report.pdf | grep -q "%PDF-"
env/bin/python -c "import dmi; i = dmi.load_instrument('miit-2024-manufacturing'); print('loaded', i.id, i.version)"
env/bin/python -c "import dmi.eligibility as e; print('policies', *sorted(e.available_policies()))"
echo "wheel-check: the installed wheel scored, reported and loaded its shipped data"

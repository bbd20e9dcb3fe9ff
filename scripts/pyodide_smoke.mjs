// node scripts/pyodide_smoke.mjs PYODIDE_PACKAGE_DIR WHEEL_DIR  (driven by scripts/pyodide_smoke.py)
import { readFileSync, readdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join, resolve } from "node:path";
const [pkg, wheels] = process.argv.slice(2).map((p) => resolve(p));
const { loadPyodide } = await import(pathToFileURL(join(pkg, "pyodide.mjs")).href);
const py = await loadPyodide({ indexURL: pkg + "/" });
py.FS.mkdirTree("/tmp/wheels");
for (const f of readdirSync(wheels)) if (f.endsWith(".whl")) py.FS.writeFile(`/tmp/wheels/${f}`, readFileSync(join(wheels, f)));
const out = await py.runPythonAsync(`
import json, os, sys, sysconfig, zipfile
site = sysconfig.get_paths()["purelib"]
for w in sorted(os.listdir("/tmp/wheels")):
    zipfile.ZipFile("/tmp/wheels/" + w).extractall(site)
import runrate_xl.udfs as u
from runrate_xl import evaluate_scenario
from runrate_xl.presets import preset_scenario
json.dumps({
    "python": sys.version.split()[0], "platform": sys.platform,
    "breakeven": u.RUNRATE_BREAKEVEN(4140, 0.8, 1.5),
    "bad_input": u.RUNRATE_BREAKEVEN(4140, 80, 1.5),
    "recommend": u.RUNRATE_RECOMMEND("seed000-1m-inferences"),
    "price": u.RUNRATE_PRICE("seed003/gpt-4o-mini", "output"),
    "preset_recommendation": evaluate_scenario(preset_scenario("capacity-growth")).recommendation.label,
})
`);
console.log(out);

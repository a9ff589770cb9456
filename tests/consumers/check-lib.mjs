// Shared by the checkers: each reads one exported file, fails (exit 1, reasons on stderr) if a real consumer would
// reject it, and otherwise prints a JSON summary on stdout for the C# test to compare with the store.
import fs from 'node:fs';

export function fail(...reasons) {
  process.stderr.write(reasons.flat().map(r => `invalid: ${r}\n`).join(''));
  process.exit(1);
}

export function fileArgument() {
  const file = process.argv[2];
  if (!file) fail('usage: node <checker>.mjs <file>');
  return file;
}

export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail(`not JSON: ${e.message}`);
  }
}

export function print(summary) {
  process.stdout.write(JSON.stringify(summary, (_, v) => (typeof v === 'bigint' ? Number(v) : v)) + '\n');
}

/** Self and total per frame name over weighted stacks (outermost first); a name counts once per stack for total. */
export function functionTotals(stacks) {
  const functions = {};
  for (const {names, weight} of stacks) {
    if (names.length === 0) continue;
    const leaf = names[names.length - 1];
    const entryOf = name => (functions[name] ??= {self: 0, total: 0});
    entryOf(leaf).self += weight;
    for (const name of new Set(names)) entryOf(name).total += weight;
  }
  return functions;
}

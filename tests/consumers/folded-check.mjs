// Folded stacks read strictly by the rules flamegraph.pl and speedscope's importer use: each line is
// `frame;frame;...;frame count`, split at the last space, count a whole number. Those tools skip a line they cannot
// read; this checker fails on it instead, and on an empty frame or a stack listed twice.
import fs from 'node:fs';
import {fail, fileArgument, print, functionTotals} from './check-lib.mjs';

const text = fs.readFileSync(fileArgument(), 'utf8');
const errors = [];
if (text.length > 0 && !text.endsWith('\n')) errors.push('the last line has no line break');
const seen = new Set();
const stacks = [];
text.split('\n').slice(0, -1).forEach((line, i) => {
  const match = /^(.*) (\d+)$/.exec(line); // speedscope's own expression (src/import/bg-flamegraph.ts)
  if (!match) return errors.push(`line ${i + 1} is not "stack count": ${JSON.stringify(line)}`);
  const names = match[1].split(';');
  if (names.some(n => n.length === 0)) errors.push(`line ${i + 1} has an empty frame`);
  if (seen.has(match[1])) errors.push(`line ${i + 1} repeats a stack`);
  seen.add(match[1]);
  stacks.push({names, weight: Number(match[2])});
});
if (errors.length) fail(errors);

const roots = {};
for (const {names, weight} of stacks) roots[names[0]] = (roots[names[0]] ?? 0) + weight;
print({lines: stacks.length, total: stacks.reduce((a, s) => a + s.weight, 0), roots, functions: functionTotals(stacks)});

// A Chrome trace checked three ways: against a strict JSON schema written from the Trace Event Format document
// (chromium-trace.schema.json, validated by ajv); for what a schema cannot say (complete events of one thread nest,
// each thread and process is named once); and by loading it into the trace engine of Chrome DevTools' Performance
// panel (@paulirish/trace_engine, the engine Lighthouse uses), whose per-thread call trees must match the events.
import fs from 'node:fs';
import Ajv from 'ajv';
import {analyzeEvents} from '@paulirish/trace_engine/analyze-trace.mjs';
import {fail, fileArgument, readJson, print} from './check-lib.mjs';

const schema = JSON.parse(fs.readFileSync(new URL('./chromium-trace.schema.json', import.meta.url), 'utf8'));
const trace = readJson(fileArgument());
const validate = new Ajv({allErrors: true, strict: false}).compile(schema);
if (!validate(trace)) fail(validate.errors.slice(0, 20).map(e => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`));

const errors = [];
const names = new Map();
const threads = new Map();
for (const event of trace.traceEvents) {
  const key = `${event.pid}:${event.tid}`;
  if (event.ph === 'M' && (event.name === 'thread_name' || event.name === 'process_name')) {
    const nameKey = event.name === 'process_name' ? `process ${event.pid}` : `thread ${key}`;
    if (names.has(nameKey)) errors.push(`${nameKey} is named twice`);
    names.set(nameKey, event.args.name);
  }
  if (event.ph === 'X') {
    if (!threads.has(key)) threads.set(key, []);
    threads.get(key).push(event);
  }
}

const expected = {};
for (const [key, events] of threads) {
  const [pid, tid] = key.split(':').map(Number);
  if (!names.has(`thread ${key}`)) errors.push(`thread ${key} has events but no thread_name`);
  if (!names.has(`process ${pid}`)) errors.push(`process ${pid} has events but no process_name`);
  // Outer events first at equal start; a child must end by its parent's end, a sibling start at or after the
  // previous one's end: anything else would be drawn as a wrong call tree.
  events.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const open = [];
  let rootSamples = 0;
  let maxDepth = 0;
  for (const event of events) {
    while (open.length && open[open.length - 1].ts + open[open.length - 1].dur <= event.ts) open.pop();
    const parent = open[open.length - 1];
    if (parent && event.ts + event.dur > parent.ts + parent.dur)
      errors.push(`thread ${key}: "${event.name}" at ${event.ts} overlaps the end of "${parent.name}"`);
    if (!parent) rootSamples += event.args?.samples ?? 0;
    open.push(event);
    maxDepth = Math.max(maxDepth, open.length);
  }
  expected[key] = {pid, tid, name: names.get(`thread ${key}`), events: events.length, rootSamples, maxDepth};
}
if (errors.length) fail(errors);

// DevTools needs window.DOMRect (analyze-trace.mjs installs it) and URL.parse, which Node has from 20.18 only:
// Debian 12's Node 18 gets the same function (a URL, or null where the constructor would throw).
URL.parse ??= (url, base) => { try { return new URL(url, base); } catch { return null; } };
const {parsedTrace} = await analyzeEvents(trace.traceEvents);
const warnings = parsedTrace.data.Warnings.perWarning;
if (warnings.size) fail([...warnings.keys()].map(w => `DevTools warns: ${w}`));
const loaded = {};
for (const [pid, process] of parsedTrace.data.Renderer.processes)
  for (const [tid, thread] of process.threads) {
    const roots = [...(thread.tree?.roots ?? [])];
    loaded[`${pid}:${tid}`] = {
      name: thread.name,
      events: thread.entries.length,
      rootSamples: roots.reduce((a, n) => a + (n.entry.args?.samples ?? 0), 0),
      maxDepth: thread.tree?.maxDepth ?? 0,
      rootNames: [...new Set(roots.map(n => n.entry.name))].sort(),
    };
  }
for (const [key, ours] of Object.entries(expected)) {
  const theirs = loaded[key];
  if (!theirs) { errors.push(`DevTools shows no track for thread ${key} "${ours.name}"`); continue; }
  for (const field of ['name', 'events', 'rootSamples', 'maxDepth'])
    if (theirs[field] !== ours[field]) errors.push(`thread ${key}: DevTools reads ${field} ${theirs[field]}, the events say ${ours[field]}`);
}
if (errors.length) fail(errors);

const processes = Object.fromEntries([...names].filter(([k]) => k.startsWith("process ")).map(([k, v]) => [k.slice(8), v]));
// What DevTools draws at the top of each track, for the caller to compare with the stacks' outermost frames.
for (const [key, ours] of Object.entries(expected)) ours.devToolsRootNames = loaded[key].rootNames;
print({otherData: trace.otherData, displayTimeUnit: trace.displayTimeUnit, processes, threads: Object.values(expected)});

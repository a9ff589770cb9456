// A pprof file decoded by pprof-format (Datadog's pure-JavaScript profile.proto codec), then checked the way Go's
// pprof checks a profile before using it (profile.CheckValid): values per sample type, ids non-zero and unique,
// every reference resolved; and string_table[0] empty, as the format requires.
import fs from 'node:fs';
import zlib from 'node:zlib';
import {Profile} from 'pprof-format';
import {fail, fileArgument, print, functionTotals} from './check-lib.mjs';

const bytes = fs.readFileSync(fileArgument());
if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) fail('not gzip-compressed');
const profile = Profile.decode(zlib.gunzipSync(bytes));
const strings = profile.stringTable.strings;
const errors = [];
const str = (index, what) => {
  const i = Number(index);
  if (!Number.isInteger(i) || i < 0 || i >= strings.length) { errors.push(`${what}: string index ${index} of ${strings.length}`); return undefined; }
  return strings[i];
};
if (strings[0] !== '') errors.push(`string_table[0] is ${JSON.stringify(strings[0])}, not ""`);

const byId = (items, what) => {
  const map = new Map();
  for (const item of items) {
    const id = Number(item.id);
    if (id === 0) errors.push(`${what} with reserved id 0`);
    if (map.has(id)) errors.push(`two ${what}s with id ${id}`);
    map.set(id, item);
  }
  return map;
};
const functions = byId(profile.function, 'function');
const locations = byId(profile.location, 'location');
byId(profile.mapping, 'mapping');
for (const location of profile.location) {
  if (Number(location.mappingId) !== 0 && !profile.mapping.some(m => Number(m.id) === Number(location.mappingId)))
    errors.push(`location ${location.id} refers to missing mapping ${location.mappingId}`);
  for (const line of location.line)
    if (!functions.has(Number(line.functionId))) errors.push(`location ${location.id} refers to missing function ${line.functionId}`);
}
const sampleTypes = profile.sampleType.map(t => `${str(t.type, 'sample type')}/${str(t.unit, 'sample unit')}`);
const totals = sampleTypes.map(() => 0);
const threads = {};
const stacksPerType = sampleTypes.map(() => []);
profile.sample.forEach((sample, i) => {
  if (sample.value.length !== sampleTypes.length) errors.push(`sample ${i} has ${sample.value.length} values for ${sampleTypes.length} types`);
  const values = sample.value.map(Number);
  values.forEach((v, t) => { totals[t] += v; });
  const labels = {};
  for (const label of sample.label) {
    const key = str(label.key, `sample ${i} label key`);
    labels[key] = Number(label.str) !== 0 ? str(label.str, `sample ${i} label ${key}`) : Number(label.num);
  }
  const thread = String(labels.thread);
  threads[thread] ??= {threadId: labels.thread_id, values: sampleTypes.map(() => 0)};
  values.forEach((v, t) => { threads[thread].values[t] += v; });
  // pprof lists a sample's locations leaf first; a location's lines innermost (inlined) first.
  const names = [];
  for (const id of [...sample.locationId].reverse()) {
    const location = locations.get(Number(id));
    if (!location) { errors.push(`sample ${i} refers to missing location ${id}`); continue; }
    for (const line of [...location.line].reverse()) names.push(str(functions.get(Number(line.functionId))?.name, 'function name'));
  }
  values.forEach((v, t) => stacksPerType[t].push({names, weight: v}));
});
if (errors.length) fail(errors);

const valueType = t => (t ? `${str(t.type, 'period type')}/${str(t.unit, 'period unit')}` : null);
print({
  sampleTypes,
  defaultSampleType: str(profile.defaultSampleType, 'default sample type'),
  periodType: valueType(profile.periodType),
  period: Number(profile.period),
  timeNanos: Number(profile.timeNanos),
  durationNanos: Number(profile.durationNanos),
  comments: profile.comment.map(c => str(c, 'comment')),
  totals,
  threads,
  functions: Object.fromEntries(profile.function.map(f => [Number(f.id), {
    name: str(f.name, 'function name'), systemName: str(f.systemName, 'system name'), filename: str(f.filename, 'file name'),
  }])),
  lines: profile.location.flatMap(l => l.line.map(line => ({function: Number(line.functionId), line: Number(line.line)}))),
  functionTotals: Object.fromEntries(sampleTypes.map((type, t) => [type, functionTotals(stacksPerType[t])])),
});

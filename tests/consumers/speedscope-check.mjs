// A speedscope file checked against speedscope's own published JSON schema (shipped in the `speedscope` npm package,
// dist/release/file-format-schema.json), then against what speedscope's importer relies on but the schema cannot say.
import fs from 'node:fs';
import {createRequire} from 'node:module';
import Ajv from 'ajv';
import {fail, fileArgument, readJson, print, functionTotals} from './check-lib.mjs';

const require = createRequire(import.meta.url);
const schemaPath = require.resolve('speedscope/dist/release/file-format-schema.json');
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
const file = readJson(fileArgument());

const validate = new Ajv({allErrors: true, strict: false}).compile(schema);
if (!validate(file)) fail(validate.errors.map(e => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`));

const frames = file.shared.frames;
const errors = [];
const profiles = file.profiles.map((profile, p) => {
  const where = `profiles[${p}] "${profile.name}"`;
  if (profile.type !== 'sampled') errors.push(`${where}: expected a sampled profile`);
  // speedscope's importer throws on this mismatch, and sizes the profile by endValue - startValue.
  if (profile.samples.length !== profile.weights.length)
    errors.push(`${where}: ${profile.samples.length} samples but ${profile.weights.length} weights`);
  const total = profile.weights.reduce((a, w) => a + w, 0);
  if (profile.endValue - profile.startValue !== total)
    errors.push(`${where}: endValue - startValue = ${profile.endValue - profile.startValue}, weights add up to ${total}`);
  profile.weights.forEach((w, i) => { if (!Number.isFinite(w) || w < 0) errors.push(`${where}: weight ${i} is ${w}`); });
  profile.samples.forEach((stack, i) => stack.forEach(f => {
    if (!Number.isInteger(f) || f < 0 || f >= frames.length) errors.push(`${where}: sample ${i} refers to frame ${f} of ${frames.length}`);
  }));
  const stacks = profile.samples.map((stack, i) => ({names: stack.map(f => frames[f]?.name), weight: profile.weights[i]}));
  return {name: profile.name, unit: profile.unit, samples: profile.samples.length, total, functions: functionTotals(stacks)};
});
if (errors.length) fail(errors);

print({exporter: file.exporter, name: file.name, activeProfileIndex: file.activeProfileIndex, frames, profiles});

// Parses and validates an AsyncAPI document with the AsyncAPI initiative's own parser (@asyncapi/parser):
// the specification's JSON Schema, then its semantic rules (channel parameters, operation and message
// references, Kafka bindings). External $refs (the events' JSON Schemas beside it) are resolved from disk.
// Prints every diagnostic; exits 1 if any is an error (severity 0), or a warning when --strict is given.
//
//   node validate.mjs <asyncapi.json> [--strict]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const file = args.find((arg) => !arg.startsWith('--'));
if (!file) {
  console.error('usage: node validate.mjs <asyncapi.json> [--strict]');
  process.exit(2);
}
const path = resolve(file);
readFileSync(path); // fail plainly on a missing file
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, path).parse();
const names = ['error', 'warning', 'information', 'hint'];
let failed = 0;
for (const d of diagnostics) {
  const where = d.path && d.path.length ? d.path.join('/') : '<root>';
  console.log(`${names[d.severity] ?? d.severity}: ${d.code}: ${d.message} (at ${where})`);
  if (d.severity === 0 || (strict && d.severity === 1)) failed += 1;
}
if (!document || failed) {
  console.error(`asyncapi: ${path} is NOT valid (${failed} problem(s))`);
  process.exit(1);
}
const channels = document.channels().length;
const operations = document.operations().length;
const messages = document.messages().length;
console.log(`asyncapi: ${path} is valid AsyncAPI ${document.version()}: ${channels} channels, ${operations} operations, ${messages} messages`);

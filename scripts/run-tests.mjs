#!/usr/bin/env node
// Node 20's test runner takes no globs, so we collect the *.test.ts files ourselves and hand
// them to one `node --import tsx --test` run (one reporter summary for the whole suite).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const searchRoots = roots.length > 0 ? roots : ['src', 'tests'];

function collect(path, out) {
  let info;
  try {
    info = statSync(path);
  } catch {
    return;
  }
  if (info.isFile()) {
    if (path.endsWith('.test.ts')) out.push(path);
    return;
  }
  for (const entry of readdirSync(path).sort()) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    collect(join(path, entry), out);
  }
}

const files = [];
for (const root of searchRoots) collect(root, files);
if (files.length === 0) {
  console.error(`no *.test.ts files under ${searchRoots.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...passThrough, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);

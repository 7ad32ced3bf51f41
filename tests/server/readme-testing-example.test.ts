/** The README's "handlers are tested without sockets" example, run as written (needs the build). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('the README testing-kit example answers 486 on the fake network', { timeout: 60_000 }, (t) => {
  if (!existsSync(`${root}dist/proxy/index.js`)) {
    if (process.env.CI === 'true') assert.fail('dist/ is missing: npm test builds it first');
    t.skip('dist/ not built: run npm run build (npm test does it)');
    return;
  }
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('Handlers are tested without sockets'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code);
  const file = `${root}tests/server/.readme-testing-example.ts`;
  writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '486');
  } finally {
    rmSync(file, { force: true });
  }
});

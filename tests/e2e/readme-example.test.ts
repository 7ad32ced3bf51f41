/**
 * The README's "Using the Caller class" example, run as written (it imports `voxlite/ua`, so
 * it needs the build that `npm test` makes first), against a listening Caller on 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Caller } from '../../src/ua/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function readmeExample(): string {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('### Using the Caller class'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(match, 'the README has a TypeScript example under "Using the Caller class"');
  return match[1]!;
}

test('the README Caller example places a call and ends it cleanly', { timeout: 60_000 }, async (t) => {
  if (!existsSync(`${root}dist/ua/index.js`)) {
    if (process.env.CI === 'true') assert.fail('dist/ is missing: npm test builds it before running tests');
    t.skip('dist/ not built: run npm run build (npm test does it)');
    return;
  }
  const bob = new Caller({ listen: true, intIp: '127.0.0.1', port: 0, audio: false, autoRespondAfter: 0, user: 'bob', domain: '127.0.0.1' });
  await bob.start();
  const answered = new Promise<void>((resolve) => bob.once('answered', () => resolve()));
  const file = `${root}tests/e2e/.readme-example.ts`;
  writeFileSync(file, readmeExample());
  try {
    const at = bob.localSipAddress!;
    const run = new Promise<ReturnType<typeof spawnSync>>((resolve) => {
      // spawnSync would block the listener in this process; run it asynchronously.
      import('node:child_process').then(({ spawn }) => {
        const child = spawn(process.execPath, ['--import', 'tsx', file], {
          cwd: root,
          env: { ...process.env, VOXLITE_TARGET: `sip:bob@${at.host}:${at.port}` },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('exit', (status) => {
          clearTimeout(timer);
          resolve({ status, stdout, stderr, pid: child.pid ?? 0, output: [], signal: null });
        });
      });
    });
    const result = await run;
    await answered;
    assert.equal(result.status, 0, String(result.stderr));
    assert.match(String(result.stdout), /ended: call completed \(exit code 0\)/);
    assert.match(String(result.stdout), /quality/);
  } finally {
    rmSync(file, { force: true });
    await bob.close();
  }
});

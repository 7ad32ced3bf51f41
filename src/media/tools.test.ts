import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../core/clock.js';
import { VoxliteError } from '../core/errors.js';
import {
  activeMediaProcesses,
  checkMediaTool,
  findExecutable,
  MEDIA_TOOLS,
  MediaProcessError,
  MediaToolMissingError,
  ToolProcess,
  type MediaTool,
} from './tools.js';

/** Skip message when a tool is missing here; with CI=true the test runs, and its checkMediaTool() fails by package name. */
function skipWithout(tool: MediaTool): string | false {
  if (process.env['CI'] === 'true' || findExecutable(MEDIA_TOOLS[tool].command) !== undefined) return false;
  return `${MEDIA_TOOLS[tool].command} not found: apt-get install ${MEDIA_TOOLS[tool].debianPackage}`;
}

/** Whether a pid is a live process (a zombie left for an init that does not reap is not). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

after(() => assert.deepEqual(activeMediaProcesses(), [], 'no media process left behind'));

describe('finding tools', () => {
  test('findExecutable searches PATH, checks paths as given, and needs the execute bit', () => {
    assert.ok(findExecutable('sh')?.endsWith('/sh'));
    assert.equal(findExecutable('voxlite-no-such-tool'), undefined);
    assert.equal(findExecutable('/nonexistent/sox'), undefined);
    assert.equal(findExecutable(''), undefined);
    const dir = mkdtempSync(join(tmpdir(), 'voxlite-tools-'));
    try {
      const file = join(dir, 'tool');
      writeFileSync(file, '#!/bin/sh\n');
      assert.equal(findExecutable(file), undefined, 'not executable');
      chmodSync(file, 0o755);
      assert.equal(findExecutable(file), file);
      assert.equal(findExecutable('tool', `/nonexistent:${dir}`), `${dir}/tool`);
      assert.equal(findExecutable(dir), undefined, 'a directory is not a program');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing tool is a one-line MediaToolMissingError naming the Debian package', () => {
    const cases: [MediaTool, string][] = [
      ['sox', 'sox'],
      ['espeak-ng', 'espeak-ng'],
      ['pocketsphinx', 'pocketsphinx'],
      ['flite', 'flite'],
    ];
    for (const [tool, pkg] of cases) {
      assert.throws(
        () => checkMediaTool(tool, '/nonexistent/bin/tool'),
        (error: unknown) => {
          assert.ok(error instanceof MediaToolMissingError);
          assert.ok(error instanceof VoxliteError);
          assert.equal(error.code, 'MEDIA_ERR_TOOL_MISSING');
          assert.equal(error.tool, tool);
          assert.equal(error.debianPackage, pkg);
          assert.ok(!error.message.includes('\n'));
          assert.match(error.message, new RegExp(`apt-get install ${pkg}\\)$`));
          return true;
        },
      );
    }
  });
});

describe('ToolProcess', () => {
  const clock = new SystemClock();

  test('stop() ends a long-running child: SIGTERM, pid gone, registry empty', { timeout: 10_000 }, async () => {
    const proc = new ToolProcess({ tool: 'sox', command: 'sleep', args: ['30'], clock, stdin: false, stdout: false });
    await proc.ready;
    const pid = proc.pid;
    assert.ok(pid !== undefined && isRunning(pid));
    assert.deepEqual(activeMediaProcesses(), [pid]);
    const exit = await proc.stop({ endInput: false, graceMs: 2000 });
    assert.equal(exit.signal, 'SIGTERM');
    assert.equal(exit.error, undefined, 'a stop we asked for is not an error');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.deepEqual(activeMediaProcesses(), []);
    assert.equal(await proc.stop({ endInput: false, graceMs: 10 }), exit, 'idempotent');
  });

  test('a child that ignores SIGTERM is SIGKILLed after the grace period', { timeout: 10_000 }, async () => {
    const proc = new ToolProcess({
      tool: 'sox',
      command: process.execPath,
      args: ['-e', 'process.on("SIGTERM", () => {}); console.error("started"); setInterval(() => {}, 1000);'],
      clock,
      stdin: false,
      stdout: false,
      readyPattern: /started/,
    });
    await proc.ready;
    const exit = await proc.stop({ endInput: false, graceMs: 200 });
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(proc.pid !== undefined);
    assert.throws(() => process.kill(proc.pid as number, 0), { code: 'ESRCH' });
  });

  test('a failed exit becomes a MediaProcessError led by the tool\'s own complaint', { timeout: 10_000, skip: skipWithout('sox') }, async () => {
    checkMediaTool('sox');
    const proc = new ToolProcess({
      tool: 'sox',
      command: 'sox',
      args: ['-n', '-t', 'voxlite-no-such-format', '-'],
      clock,
      stdin: false,
      stdout: false,
    });
    const exit = await proc.exited;
    assert.ok(exit.error instanceof MediaProcessError);
    assert.equal(exit.error.code, 'MEDIA_ERR_PROCESS');
    assert.equal(exit.error.failure, 'exit');
    assert.equal(exit.code, 2);
    assert.match(exit.error.message, /^sox exited with code 2: .*sox FAIL .*voxlite-no-such-format/);
    assert.ok(!exit.error.message.includes('\n'));
    assert.match(exit.error.stderr, /FAIL/);
  });

  test('a start timeout kills the child and rejects ready', { timeout: 10_000 }, async () => {
    const proc = new ToolProcess({
      tool: 'sox',
      command: 'sleep',
      args: ['30'],
      clock,
      stdin: false,
      stdout: false,
      readyPattern: /never printed/,
    });
    proc.armStartTimeout(100);
    await assert.rejects(proc.ready, (e: unknown) => e instanceof MediaProcessError && e.failure === 'timeout');
    const exit = await proc.exited;
    assert.equal(exit.error?.message, 'sox did not start within 100 ms');
    assert.equal(proc.hasExited, true);
  });

  test('children still running when Node exits are killed by the exit hook', { timeout: 20_000 }, () => {
    // A separate Node process starts a child that would outlive it by 30 s, prints its pid and exits.
    const script = `
      import { ToolProcess } from ${JSON.stringify(new URL('./tools.ts', import.meta.url).href)};
      import { SystemClock } from ${JSON.stringify(new URL('../core/clock.ts', import.meta.url).href)};
      const p = new ToolProcess({ tool: 'sox', command: 'sleep', args: ['30'], clock: new SystemClock(), stdin: false, stdout: false });
      await p.ready;
      console.log(p.pid);
      process.exit(0);
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const pid = Number(run.stdout.trim());
    assert.ok(Number.isInteger(pid) && pid > 0, run.stdout);
    assert.equal(isRunning(pid), false, `sleep ${pid} survived its parent`);
  });
});

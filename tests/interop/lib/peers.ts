/**
 * Helpers for tests that drive real peer programs (SIPp, Kamailio, baresip…) on loopback.
 * A missing binary skips the test with a clear message on a developer's machine, and fails it
 * in CI (`CI=true`), where `.ci/run` must have installed it.
 */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export function hasBinary(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Returns true when `binary` is on PATH. Otherwise skips the test (locally) or throws (in CI).
 */
export function requirePeer(t: TestContext, binary: string, debianPackage: string): boolean {
  if (hasBinary(binary)) return true;
  const message = `${binary} not found: install the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must have it`);
  t.skip(message);
  return false;
}

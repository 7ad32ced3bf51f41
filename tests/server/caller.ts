/** `voxlite caller` processes registered through a `voxlite server` child process, and their `-v` SIP traces. */
import { voxlite, type CliProcess } from '../e2e/lib.js';
import { sparePort } from '../interop/lib/ports.js';
import type { ServerProcess } from './process.js';

/**
 * A caller registering through `srv` as `user` (digest `--authuser`/`--authpass`), JSON events
 * on stdout, SIP trace (`-v`) on stderr, bounded to `maxMs` (default 40 s).
 */
export async function startCaller(srv: ServerProcess, user: string, password: string, extra: readonly string[], maxMs = 40_000): Promise<CliProcess> {
  return voxlite(
    [
      'caller',
      '--int-ip', '127.0.0.1',
      '--no-audio',
      '--json',
      '-v',
      '--user', user,
      '--domain', srv.domain,
      '--proxy', srv.hostPort,
      '--authuser', user,
      '--authpass', password,
      '--register',
      '--register-interval', '120',
      '--port', String(await sparePort()),
      ...extra,
    ],
    { maxMs },
  );
}

export interface TracedMessage {
  readonly direction: 'sent' | 'received';
  readonly text: string;
}

/** The SIP messages of a caller's `-v` trace, in order. */
export function trace(p: CliProcess): TracedMessage[] {
  const out: TracedMessage[] = [];
  const parts = p.stderr().split(/^\d\d:\d\d:\d\d\.\d{3} caller DEBUG - (sending to|received from) [^\n]*\n/m);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    out.push({ direction: parts[i] === 'sending to' ? 'sent' : 'received', text: parts[i + 1]! });
  }
  return out;
}

/** Whether `p` received a `method` request whose top Via is the server's (it came through the proxy). */
export function receivedThroughServer(p: CliProcess, srv: ServerProcess, method: string): boolean {
  return trace(p).some((m) => {
    if (m.direction !== 'received' || !m.text.startsWith(`${method} `)) return false;
    const via = /^(?:Via|v): *([^\r\n]*)/im.exec(m.text)?.[1] ?? '';
    return via.includes(srv.hostPort);
  });
}

/** REGISTER: a 401 with a Digest challenge, a REGISTER with Authorization, a 200. */
export function registeredWithDigest(p: CliProcess): boolean {
  const messages = trace(p);
  return (
    messages.some((m) => m.direction === 'received' && /^SIP\/2\.0 401 /.test(m.text) && /^CSeq: *\d+ REGISTER/im.test(m.text) && /^WWW-Authenticate: *Digest /im.test(m.text)) &&
    messages.some((m) => m.direction === 'sent' && /^REGISTER /.test(m.text) && /^Authorization: *Digest /im.test(m.text)) &&
    messages.some((m) => m.direction === 'received' && /^SIP\/2\.0 200 /.test(m.text) && /^CSeq: *\d+ REGISTER/im.test(m.text))
  );
}

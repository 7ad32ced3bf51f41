/**
 * G24 (no enumeration) and G26 (no nonce replay) against `voxlite server` (a child process on a
 * spare 127.0.0.1 port, users file made by `voxlite users add`) with SIPVicious 0.3.3 (Debian
 * `sipvicious`: `svwar`, `svcrack`). 127.0.0.1 only (`-b`/`-x`), a spare local port per run
 * (`-P`; svwar's default 5060 would pick up another run's retransmitted 407s), small ranges,
 * every run under `timeout`.
 *
 * - svwar, REGISTER/OPTIONS/INVITE, `-e` a small range around the real extensions: finds nothing.
 *   In its default mode svwar probes a random extension first and gives up when even that one
 *   is challenged. With `--force` it takes that challenge as the "unknown user" answer and reports
 *   any extension whose status line differs — and stops at the first one that does not (its
 *   "unknown response" branch), so each real extension gets a `--force` run of its own.
 *   A fake server that leaks (404 for unknown users) is found by the same runs: the harness can
 *   see a leak.
 * - svcrack with a dictionary without the password finds nothing; with the password in it, it
 *   does find it (the positive control). svcrack 0.3.3 cannot compute SHA-256 (it crashes with
 *   UnboundLocalError on the first challenge, SHA-256, that the stock server offers), so these
 *   runs use the same server offering MD5 alone (`voxlite server --digest-algorithms MD5`).
 * - svcrack `-n` (reuse nonce) crashes in 0.3.3 before sending a single guess (KeyError
 *   'algorithm'), so it is run and must find nothing, and the attack it stands for is replayed
 *   by hand: one nonce, many guesses (all 401), then a captured correct Authorization replayed in
 *   a new request (401, G26).
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeer } from '../interop/lib/peers.js';
import { sparePort } from '../interop/lib/ports.js';
import { startPeer } from '../interop/lib/process.js';
import { startServerProcess, type ServerProcess } from './process.js';

const HOST = '127.0.0.1';
/** Numeric extensions, so that `svwar -e` ranges include them. */
const USERS = [
  { user: '1000', password: 'Tr0ub4dor-1000' },
  { user: '1001', password: 'correct-horse-1001' },
  { user: '1002', password: 'battery-staple-1002' },
] as const;
const RANGE = '995-1005';
const METHODS = ['REGISTER', 'OPTIONS', 'INVITE'] as const;

const dir = mkdtempSync(join(tmpdir(), 'voxlite-sipvicious-'));
const servers: ServerProcess[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function server(digestAlgorithms?: readonly string[]): Promise<ServerProcess> {
  const s = await startServerProcess({ users: USERS, maxMs: 120_000, ...(digestAlgorithms === undefined ? {} : { digestAlgorithms }) });
  servers.push(s);
  return s;
}

interface ToolRun {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a sipvicious tool on 127.0.0.1 from a spare local port, bounded by `timeout`. */
async function sipvicious(tool: 'svwar' | 'svcrack', args: readonly string[], seconds = 25): Promise<ToolRun> {
  const localPort = await sparePort(HOST);
  const p = startPeer('timeout', ['-k', '2', String(seconds), tool, '-b', HOST, '-x', HOST, '-P', String(localPort), ...args], { maxMs: (seconds + 5) * 1000 });
  const code = await p.exited((seconds + 4) * 1000);
  return { code, output: p.output() };
}

/** Extensions svwar lists in its result table. */
function svwarFound(output: string): string[] {
  return [...output.matchAll(/^\|\s*(\S+)\s*\|\s*(reqauth|noauth|weird)\s*\|/gm)].map((m) => `${m[1]!}:${m[2]!}`);
}

/** Passwords svcrack lists in its result table (`| ext | password |`). */
function svcrackFound(output: string): string[] {
  return [...output.matchAll(/^\|\s*(\S+)\s*\|\s*(\S+)\s*\|$/gm)].filter((m) => m[1] !== 'Extension').map((m) => `${m[1]!}:${m[2]!}`);
}

function dictionary(name: string, words: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, words.join('\n') + '\n');
  return path;
}

const WRONG = ['1234', 'password', 'secret', 'Tr0ub4dor', 'correct-horse', '1000', 'letmein', 'qwerty'];

// ---------------------------------------------------------------------------------------------
// A leaky registrar for the positive control: 404 for unknown users, 401 for known ones.

async function leakyServer(known: readonly string[]): Promise<{ port: number; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  socket.on('message', (data, rinfo) => {
    const text = data.toString('latin1');
    const method = /^([A-Z]+) /.exec(text)?.[1];
    if (method === undefined || method === 'ACK') return;
    const header = (name: string): string => new RegExp(`^${name}: *([^\\r\\n]*)`, 'im').exec(text)?.[1] ?? '';
    const user = /sip:([^@>;]+)@/.exec(header('From'))?.[1] ?? '';
    const status = known.includes(user) ? '401 Unauthorized' : '404 Not Found';
    const lines = [
      `SIP/2.0 ${status}`,
      `Via: ${header('Via')}`,
      `From: ${header('From')}`,
      `To: ${header('To')};tag=leaky`,
      `Call-ID: ${header('Call-ID')}`,
      `CSeq: ${header('CSeq')}`,
      ...(status.startsWith('401') ? ['WWW-Authenticate: Digest realm="leaky", nonce="abc", algorithm=MD5, qop="auth"'] : []),
      'Content-Length: 0',
      '',
      '',
    ];
    socket.send(lines.join('\r\n'), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
  return { port: socket.address().port, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

describe('svwar finds no extension on voxlite server (G24)', { timeout: 150_000 }, () => {
  test('positive control: svwar does find the users of a registrar that answers 404 for unknown ones', { timeout: 40_000 }, async (t) => {
    if (!requirePeer(t, 'svwar', 'sipvicious')) return;
    const leaky = await leakyServer(['1000', '1001']);
    try {
      const run = await sipvicious('svwar', ['-m', 'REGISTER', '-e', RANGE, '-p', String(leaky.port), HOST]);
      assert.deepEqual(svwarFound(run.output).sort(), ['1000:reqauth', '1001:reqauth'], run.output);
    } finally {
      await leaky.close();
    }
  });

  let srv: ServerProcess | undefined;
  before(async () => {
    srv = await server();
  });

  for (const method of METHODS) {
    test(`svwar -m ${method} -e ${RANGE}: nothing found; an unknown extension is challenged like a real one`, { timeout: 40_000 }, async (t) => {
      if (!requirePeer(t, 'svwar', 'sipvicious')) return;
      assert.ok(srv !== undefined);
      const run = await sipvicious('svwar', ['-m', method, '-e', RANGE, '-p', String(srv.port), HOST]);
      assert.deepEqual(svwarFound(run.output), [], `svwar found extensions:\n${run.output}\n--- server:\n${srv.log().slice(-2000)}`);
      assert.match(run.output, /found nothing/, run.output);
      // it did talk to the server: its random probe extension was challenged, so it gave up
      assert.match(run.output, /replied with an authentication request for an unknown extension/, run.output);

      // --force: svwar takes the random extension's challenge as "unknown user" and compares each
      // real extension's status line with it (one run per real extension: it stops at the first
      // that looks the same)
      const forced = await Promise.all(USERS.map((u) => sipvicious('svwar', ['--force', '-vv', '-m', method, '-e', u.user, '-p', String(srv!.port), HOST])));
      for (const [i, f] of forced.entries()) {
        assert.deepEqual(svwarFound(f.output), [], `svwar --force found ${USERS[i]!.user}:\n${f.output}`);
        assert.match(f.output, new RegExp(`DEBUG:TakeASip:Bad user = SIP/2\\.0 ${method === 'REGISTER' ? '401 Unauthorized' : '407 Proxy Authentication Required'}`), f.output);
        assert.match(f.output, new RegExp(`sending request for ${USERS[i]!.user}\\b`), `svwar --force asked for ${USERS[i]!.user}:\n${f.output}`);
        assert.match(f.output, /found nothing/, f.output);
      }
    });
  }
});

describe('svcrack does not crack a password (G24, G26)', { timeout: 150_000 }, () => {
  let md5: ServerProcess | undefined;
  before(async () => {
    md5 = await server(['MD5']);
  });

  test('a dictionary without the password finds nothing; with the password in it svcrack finds it (MD5-only server)', { timeout: 60_000 }, async (t) => {
    if (!requirePeer(t, 'svcrack', 'sipvicious')) return;
    assert.ok(md5 !== undefined);
    const port = String(md5.port);
    const miss = await sipvicious('svcrack', ['-u', '1001', '-d', dictionary('wrong.txt', WRONG), '-p', port, HOST]);
    assert.deepEqual(svcrackFound(miss.output), [], miss.output);
    assert.match(miss.output, /found nothing/, miss.output);
    assert.doesNotMatch(miss.output, /Traceback|Unhandled exception|Does not seem to require authentication/, `svcrack must have really tried:\n${miss.output}`);

    // an unknown user is no different: nothing found, no "User not found"
    const unknown = await sipvicious('svcrack', ['-u', '1003', '-d', dictionary('wrong2.txt', WRONG), '-p', port, HOST]);
    assert.deepEqual(svcrackFound(unknown.output), [], unknown.output);
    assert.doesNotMatch(unknown.output, /User not found|Traceback/, unknown.output);

    // positive control: the same run finds a password that is in the dictionary
    const hit = await sipvicious('svcrack', ['-u', '1002', '-d', dictionary('right.txt', [...WRONG, USERS[2].password]), '-p', port, HOST]);
    assert.deepEqual(svcrackFound(hit.output), [`1002:${USERS[2].password}`], hit.output);
  });

  test('svcrack against the stock server (SHA-256 offered first) finds nothing', { timeout: 40_000 }, async (t) => {
    if (!requirePeer(t, 'svcrack', 'sipvicious')) return;
    const stock = await server();
    const run = await sipvicious('svcrack', ['-u', '1000', '-d', dictionary('stock.txt', [...WRONG, USERS[0].password]), '-p', String(stock.port), HOST]);
    assert.deepEqual(svcrackFound(run.output), [], run.output);
    if (/Unknown algorithm: sha-256/i.test(run.output)) t.diagnostic('svcrack 0.3.3 cannot answer a SHA-256 challenge (it stopped at the first one)');
    await stock.stop();
  });

  test('svcrack -n (reuse nonce) finds nothing, and the replay it stands for is refused', { timeout: 60_000 }, async (t) => {
    if (!requirePeer(t, 'svcrack', 'sipvicious')) return;
    assert.ok(md5 !== undefined);
    const run = await sipvicious('svcrack', ['-n', '-u', '1000', '-d', dictionary('reuse.txt', [...WRONG, USERS[0].password]), '-p', String(md5.port), HOST]);
    assert.deepEqual(svcrackFound(run.output), [], run.output);
    if (/KeyError: 'algorithm'/.test(run.output)) t.diagnostic('svcrack 0.3.3 -n crashed before its first guess (KeyError: algorithm); replaying by hand');

    // By hand: one challenge, then every guess with that nonce (nc counting up, as svcrack -n
    // would), all refused; then a correct Authorization captured and replayed in a new request.
    const client = await RawClient.open(md5.port);
    try {
      const challenge = await client.register('1000', undefined);
      assert.equal(challenge.status, 401);
      const nonce = /nonce="([^"]+)"/.exec(challenge.text)?.[1];
      assert.ok(nonce !== undefined, challenge.text);
      let nc = 1;
      for (const guess of WRONG) {
        const r = await client.register('1000', { nonce, nc: nc++, password: guess });
        assert.equal(r.status, 401, `guess ${guess} with the reused nonce:\n${r.text}`);
      }
      const good = await client.register('1000', { nonce, nc: nc++, password: USERS[0].password });
      assert.equal(good.status, 200, `the right password with a fresh nc is accepted:\n${good.text}`);
      const replay = await client.replay(good.request);
      assert.equal(replay.status, 401, `a captured Authorization replayed in a new request:\n${replay.text}`);
    } finally {
      await client.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A bare UDP client that builds REGISTERs like svcrack (MD5, qop=auth).

interface RawResponse {
  readonly status: number;
  readonly text: string;
  /** The request it answered. */
  readonly request: string;
}

class RawClient {
  private cseq = 1;
  private readonly callId = randomBytes(8).toString('hex');
  private readonly fromTag = randomBytes(4).toString('hex');
  private waiting: ((text: string) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly serverPort: number,
  ) {
    socket.on('message', (data) => this.waiting?.(data.toString('latin1')));
  }

  static async open(serverPort: number): Promise<RawClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
    return new RawClient(socket, serverPort);
  }

  /** A REGISTER for `user` (same Call-ID every time, CSeq counting up), with MD5 credentials when given. */
  register(user: string, auth: { nonce: string; nc: number; password: string } | undefined): Promise<RawResponse> {
    const uri = `sip:${HOST}`;
    const lines = [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${HOST}:${this.socket.address().port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user}@${HOST}>;tag=${this.fromTag}`,
      `To: <sip:${user}@${HOST}>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${this.cseq++} REGISTER`,
      `Contact: <sip:${user}@${HOST}:${this.socket.address().port}>`,
      'Expires: 60',
    ];
    if (auth !== undefined) {
      const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
      const cnonce = randomBytes(8).toString('hex');
      const nc = auth.nc.toString(16).padStart(8, '0');
      const response = md5(`${md5(`${user}:${HOST}:${auth.password}`)}:${auth.nonce}:${nc}:${cnonce}:auth:${md5(`REGISTER:${uri}`)}`);
      lines.push(`Authorization: Digest username="${user}", realm="${HOST}", nonce="${auth.nonce}", uri="${uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", qop=auth, nc=${nc}`);
    }
    return this.send([...lines, 'Content-Length: 0', '', ''].join('\r\n'));
  }

  /** The same request again with a new Call-ID, branch and tag (a replay of its credentials). */
  replay(request: string): Promise<RawResponse> {
    const fresh = request
      .replace(/^Call-ID: .*$/m, `Call-ID: ${randomBytes(8).toString('hex')}`)
      .replace(/branch=z9hG4bK[0-9a-f]+/, `branch=z9hG4bK${randomBytes(6).toString('hex')}`)
      .replace(/;tag=[0-9a-f]+/, `;tag=${randomBytes(4).toString('hex')}`);
    return this.send(fresh);
  }

  private send(request: string): Promise<RawResponse> {
    const callId = /^Call-ID: (.*)$/m.exec(request)?.[1]?.trim() ?? '';
    const cseq = /^CSeq: (.*)$/m.exec(request)?.[1]?.trim() ?? '';
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no final response to:\n${request}`));
      }, 5000);
      this.waiting = (text) => {
        const status = Number(/^SIP\/2\.0 (\d{3}) /.exec(text)?.[1] ?? 0);
        if (status < 200 || !text.includes(callId) || !new RegExp(`^CSeq: *${cseq}\\s*$`, 'm').test(text)) return;
        clearTimeout(timer);
        this.waiting = undefined;
        resolve({ status, text, request });
      };
      this.socket.send(request, this.serverPort, HOST);
    });
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

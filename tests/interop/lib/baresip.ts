/**
 * A headless baresip 1.0.0 (Debian package `baresip`) for interop tests, on spare loopback
 * ports: a generated config dir (config, accounts, contacts), `baresip -f DIR` with stdin held
 * open as a pipe (its stdio UI needs one, and that UI is where incoming MESSAGE text is printed),
 * no sound card (aubridge null player, `aufile` source, `sndfile` recordings), and one
 * long-lived ctrl_tcp connection (netstring-framed JSON) for commands and events. G.711 is always
 * loaded; `opus` (RFC 7587) on request, mono (`opus_stereo no`) with a 48 kHz source file.
 *
 * Port layout (baresip binds all of them): P = SIP UDP+TCP, P+1 = SIP TLS (always bound),
 * P+2 = ctrl_tcp; RTP in a separate range of 10 ports.
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resample, writeWav } from '../../../src/media/index.js';
import { sparePort } from './ports.js';
import { startPeer, type PeerProcess } from './process.js';

const MODULE_PATH = '/usr/lib/baresip/modules';

/** One ctrl_tcp event, e.g. `{"event":true,"class":"call","type":"CALL_ESTABLISHED","param":"…"}`. */
export interface BaresipEvent {
  readonly type: string;
  readonly class: string;
  readonly param: string;
  readonly peeruri: string;
  readonly direction: string;
  readonly id: string;
  /** The message as received. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** When it arrived (Date.now()). */
  readonly at: number;
}

export interface BaresipOptions {
  /** User part of the AOR `sip:USER@127.0.0.1:P` (default `bs`). */
  readonly user?: string;
  /** Answer incoming calls at once (`answermode=auto`). */
  readonly autoAnswer?: boolean;
  /** 8 kHz mono audio baresip sends in calls (padded with silence; default: silence). */
  readonly source?: Int16Array;
  /** Length of the source file: baresip 1.0.0 hangs up when its aufile source ends (default 60 s). */
  readonly sourceSeconds?: number;
  /** Record received (`-dec.wav`) and sent (`-enc.wav`) audio per call with the sndfile module. */
  readonly record?: boolean;
  /** The one contact baresip can send MESSAGE to (its `message` command has no URI argument). */
  readonly messageTo?: string;
  /** Account `audio_codecs`, e.g. `pcmu` or `opus,pcmu` (default: every codec loaded). */
  readonly codecs?: string;
  /**
   * Load baresip's `opus` module too (libopus), configured for mono (`opus_stereo no`,
   * `opus_sprop_stereo no`); the aufile source is then written at 48 kHz, the Opus rate.
   */
  readonly opus?: boolean;
  /** Log every SIP message (`-s`) into the process output (default true). */
  readonly sipTrace?: boolean;
  /** Hard limit for the process (default 60 s). */
  readonly maxMs?: number;
}

export interface Baresip {
  readonly host: string;
  readonly port: number;
  readonly ctrlPort: number;
  /** Our AOR, `sip:USER@127.0.0.1:P`: dial this to call baresip. */
  readonly aor: string;
  readonly runDir: string;
  readonly process: PeerProcess;
  /** All ctrl_tcp events received so far (events before the connection are lost). */
  readonly events: readonly BaresipEvent[];
  /** Runs a long command (`dial`, `accept`, `hangup`, `sndcode`, `message`, …); rejects unless ok. */
  command(command: string, params?: string): Promise<string>;
  /** Resolves with the first event of `type` (from index `from` on) that matches `predicate`. */
  waitEvent(type: string, options?: { timeoutMs?: number; from?: number; predicate?: (e: BaresipEvent) => boolean }): Promise<BaresipEvent>;
  /** Resolves once `count` events of `type` arrived. */
  waitEvents(type: string, count: number, timeoutMs?: number): Promise<BaresipEvent[]>;
  /** Resolves when the log (stdout+stderr, with the SIP trace) matches. */
  waitLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** A line on baresip's stdin (its stdio UI). */
  type(line: string): void;
  /** Digits received so far as RFC 4733 events (`CALL_DTMF_START` params), in order. */
  dtmfReceived(): string;
  /** The newest sndfile recording: `dec` = what baresip received, `enc` = what it sent. */
  recording(kind: 'dec' | 'enc'): string | undefined;
  /** The process output (log and SIP trace). */
  log(): string;
  /** Kills baresip and removes its run dir. Idempotent. */
  stop(): Promise<void>;
}

function encodeNetstring(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

/** Splits a byte stream into netstring payloads (`<len>:<payload>,`). */
function netstringReader(onMessage: (payload: string) => void): (chunk: Buffer) => void {
  let buffer = Buffer.alloc(0);
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const colon = buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number.parseInt(buffer.subarray(0, colon).toString('ascii'), 10);
      if (!Number.isFinite(length)) throw new Error(`bad netstring from baresip: ${buffer.subarray(0, 40).toString()}`);
      if (buffer.length < colon + 2 + length) return;
      onMessage(buffer.subarray(colon + 1, colon + 1 + length).toString('utf8'));
      buffer = buffer.subarray(colon + 2 + length);
    }
  };
}

function connectWithRetry(host: string, port: number, deadline: number, alive: () => boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (error) => {
        socket.destroy();
        if (Date.now() > deadline || !alive()) reject(error);
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

function config(o: { host: string; port: number; ctrlPort: number; rtpPorts: string; source: string; record: boolean; recDir: string; opus: boolean }): string {
  return [
    '# generated by tests/interop/lib/baresip.ts',
    'poll_method\t\tepoll',
    `sip_listen\t\t${o.host}:${o.port}`,
    `net_interface\t\t${o.host}`,
    'call_local_timeout\t120',
    'call_max_calls\t\t4',
    // no sound card: aubridge with nobody on the other end is a paced null sink
    'audio_player\t\taubridge,nullplay',
    'audio_alert\t\taubridge,nullalert',
    `audio_source\t\taufile,${o.source}`,
    'audio_level\t\tno',
    'ausrc_format\t\ts16',
    'auplay_format\t\ts16',
    'auenc_format\t\ts16',
    'audec_format\t\ts16',
    'audio_buffer\t\t20-160',
    `rtp_ports\t\t${o.rtpPorts}`,
    'rtcp_mux\t\tno',
    'jitter_buffer_delay\t5-10',
    'rtp_stats\t\tyes',
    `module_path\t\t${MODULE_PATH}`,
    'module\t\t\tstdio.so',
    'module\t\t\tg711.so',
    ...(o.opus ? ['module\t\t\topus.so', 'opus_stereo\t\tno', 'opus_sprop_stereo\tno'] : []),
    'module\t\t\taufile.so',
    'module\t\t\taubridge.so',
    `${o.record ? '' : '#'}module\t\t\tsndfile.so`,
    'module_tmp\t\tuuid.so',
    'module_tmp\t\taccount.so',
    'module_app\t\tcontact.so',
    'module_app\t\tmenu.so',
    'module_app\t\tctrl_tcp.so',
    `ctrl_tcp_listen\t\t${o.host}:${o.ctrlPort}`,
    `snd_path\t\t${o.recDir}`,
    'statmode_default\toff',
    '',
  ].join('\n');
}

/** Starts baresip and connects to its ctrl_tcp port. The caller must `stop()` it. */
export async function startBaresip(options: BaresipOptions = {}): Promise<Baresip> {
  const host = '127.0.0.1';
  const user = options.user ?? 'bs';
  const port = await sparePort(host, 3);
  const ctrlPort = port + 2;
  const rtpBase = await sparePort(host, 10);
  const runDir = mkdtempSync(join(tmpdir(), 'voxlite-baresip-'));
  const recDir = join(runDir, 'rec');
  mkdirSync(recDir);

  // aufile wants S16 mono at the codec rate (8 kHz for G.711, 48 kHz for Opus) and ends the
  // call at EOF.
  const opus = options.opus === true;
  const sourceRate = opus ? 48_000 : 8000;
  const seconds = options.sourceSeconds ?? 60;
  const source = new Int16Array(seconds * sourceRate);
  if (options.source !== undefined) {
    const audio = sourceRate === 8000 ? options.source : resample(options.source, 8000, sourceRate);
    source.set(audio.subarray(0, source.length));
  }
  const sourcePath = join(runDir, 'source.wav');
  writeFileSync(sourcePath, writeWav({ sampleRate: sourceRate, channels: 1, samples: source }));

  const aor = `sip:${user}@${host}:${port}`;
  const params = ['regint=0', `answermode=${options.autoAnswer === true ? 'auto' : 'manual'}`];
  if (options.codecs !== undefined) params.push(`audio_codecs=${options.codecs}`);
  writeFileSync(join(runDir, 'accounts'), `<${aor}>;${params.join(';')}\n`);
  writeFileSync(join(runDir, 'contacts'), options.messageTo === undefined ? '' : `"peer" <${options.messageTo}>\n`);
  writeFileSync(
    join(runDir, 'config'),
    config({ host, port, ctrlPort, rtpPorts: `${rtpBase}-${rtpBase + 9}`, source: sourcePath, record: options.record === true, recDir, opus }),
  );

  const proc = startPeer('baresip', ['-f', runDir, ...(options.sipTrace === false ? [] : ['-s'])], { cwd: runDir, maxMs: options.maxMs ?? 60_000 });
  const events: BaresipEvent[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  const pending = new Map<string, { resolve: (data: string) => void; reject: (error: Error) => void; what: string }>();
  let socket: Socket | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    socket?.destroy();
    for (const p of pending.values()) p.reject(new Error(`baresip stopped before answering ${p.what}`));
    pending.clear();
    await proc.stop();
    rmSync(runDir, { recursive: true, force: true });
  };

  try {
    socket = await connectWithRetry(host, ctrlPort, Date.now() + 10_000, () => proc.child.exitCode === null);
  } catch (error) {
    const log = proc.output();
    await stop();
    throw new Error(`baresip did not open ctrl_tcp on ${host}:${ctrlPort} (${String(error)}):\n${log.slice(-3000)}`);
  }
  socket.on('error', () => {});
  socket.on(
    'data',
    netstringReader((payload) => {
      let message: unknown;
      try {
        message = JSON.parse(payload);
      } catch {
        return;
      }
      if (!isRecord(message)) return;
      if (message['response'] === true) {
        const token = str(message['token']);
        const waiting = pending.get(token);
        if (waiting === undefined) return;
        pending.delete(token);
        if (message['ok'] === true) waiting.resolve(str(message['data']));
        else waiting.reject(new Error(`baresip refused ${waiting.what}: ${str(message['data'])}`));
        return;
      }
      if (message['event'] !== true) return;
      events.push({
        type: str(message['type']),
        class: str(message['class']),
        param: str(message['param']),
        peeruri: str(message['peeruri']),
        direction: str(message['direction']),
        id: str(message['id']),
        raw: message,
        at: Date.now(),
      });
      notify();
    }),
  );
  proc.child.once('exit', notify);
  await proc.waitFor(/baresip is ready/, 5000).catch(() => undefined);

  let nextToken = 1;
  const command = (name: string, params = ''): Promise<string> => {
    const token = `vx${nextToken++}`;
    const what = `${name} ${params}`.trim();
    return new Promise<string>((resolve, reject) => {
      if (socket === undefined || stopped) {
        reject(new Error(`baresip is stopped: cannot run ${what}`));
        return;
      }
      const timer = setTimeout(() => {
        pending.delete(token);
        reject(new Error(`baresip did not answer ${what} within 5 s`));
      }, 5000);
      pending.set(token, {
        what,
        resolve: (data) => {
          clearTimeout(timer);
          resolve(data);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      socket.write(encodeNetstring({ command: name, params, token }));
    });
  };

  const waitUntil = <T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const test = (): void => {
        const found = check();
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (proc.child.exitCode !== null || stopped) {
          done();
          reject(new Error(`baresip ended before ${what}; events: ${events.map((e) => e.type).join(' ')}\n${proc.output().slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timeout waiting for ${what} from baresip; events: ${events.map((e) => `${e.type}(${e.param})`).join(' ')}\n${proc.output().slice(-3000)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(test);
      };
      waiters.add(test);
      test();
    });

  return {
    host,
    port,
    ctrlPort,
    aor,
    runDir,
    process: proc,
    events,
    command,
    waitEvent(type, o = {}) {
      const from = o.from ?? 0;
      const predicate = o.predicate ?? (() => true);
      return waitUntil(() => events.slice(from).find((e) => e.type === type && predicate(e)), `event ${type}`, o.timeoutMs ?? 10_000);
    },
    waitEvents(type, count, timeoutMs = 10_000) {
      return waitUntil(
        () => {
          const found = events.filter((e) => e.type === type);
          return found.length >= count ? found : undefined;
        },
        `${count} × ${type}`,
        timeoutMs,
      );
    },
    waitLog(pattern, timeoutMs = 10_000) {
      return proc.waitFor(pattern, timeoutMs);
    },
    type(line) {
      proc.child.stdin?.write(`${line}\n`);
    },
    dtmfReceived() {
      return events
        .filter((e) => e.type === 'CALL_DTMF_START')
        .map((e) => e.param)
        .join('');
    },
    recording(kind) {
      const files = readdirSync(recDir)
        .filter((f) => f.endsWith(`-${kind}.wav`))
        .map((f) => join(recDir, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
      return files[0];
    },
    log: () => proc.output(),
    stop,
  };
}

/**
 * A headless linphonec (Debian package `linphone-cli`, liblinphone 5.1.65) registered to a SIP
 * server, for end-to-end tests of `voxlite server`: a generated rc (SIP UDP on a spare
 * 127.0.0.1 port, TCP/TLS off, IPv6 off with `ipv6_migration_done=1`, PCMU/PCMA only, the
 * server as `reg_proxy` and `reg_route`), HOME = the run dir, stdin held open as a pipe for
 * commands, `soundcard use files` (no sound card; a silent WAV is played).
 *
 * linphonec 5 prints no registration events: {@link Linphone.waitRegistered} polls
 * `status register`. Call progress comes from its stdout lines (`Call 1 to <uri> ringing.`,
 * `Call 1 with <uri> connected.`, `Call 1 with <uri> ended (…)`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../../src/media/index.js';
import { sparePort } from '../interop/lib/ports.js';
import { startPeer, type PeerProcess } from '../interop/lib/process.js';

export interface LinphoneOptions {
  readonly user: string;
  readonly password: string;
  /** `HOST:PORT` of the registrar/proxy. */
  readonly server: string;
  /** Domain of the identity `sip:USER@DOMAIN` (default: the server's host). */
  readonly domain?: string;
  /** Digest realm of the credentials (default: the domain). */
  readonly realm?: string;
  /** liblinphone debug log with every SIP message into the process output (default true). */
  readonly debug?: boolean;
  /** Hard limit for the process (default 60 s). */
  readonly maxMs?: number;
}

export interface Linphone {
  readonly port: number;
  readonly identity: string;
  readonly process: PeerProcess;
  /** A command line on linphonec's stdin. */
  command(line: string): void;
  /** Polls `status register` until linphonec says `registered`. */
  waitRegistered(timeoutMs?: number): Promise<void>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** stdout and stderr (with the liblinphone log when `debug`). */
  log(): string;
  /** `quit`, then SIGTERM/SIGKILL; removes the run dir. Idempotent. */
  stop(): Promise<void>;
}

const CODECS = ['PCMU/8000/1', 'PCMA/8000/1', 'opus/48000/2', 'speex/16000/1', 'speex/8000/1', 'speex/32000/1', 'GSM/8000/1', 'G722/8000/1', 'G729/8000/1', 'L16/44100/2', 'L16/44100/1'];

function rc(o: { user: string; password: string; server: string; domain: string; realm: string; port: number; rtpPort: number }): string {
  const codecs = CODECS.map((c, i) => {
    const [mime, rate, channels] = c.split('/');
    return `[audio_codec_${i}]\nmime=${mime}\nrate=${rate}\nchannels=${channels}\nenabled=${i < 2 ? 1 : 0}\n`;
  }).join('\n');
  return `[sip]
sip_port=${o.port}
sip_tcp_port=-1
sip_tls_port=-1
bind_address=127.0.0.1
ipv6_migration_done=1
use_ipv6=0
prefer_ipv6=0
contact="${o.user}" <sip:${o.user}@127.0.0.1:${o.port}>
guess_hostname=0
default_proxy=0
register_only_when_network_is_up=0
inc_timeout=60
use_rfc2833=1
use_info=0
media_encryption=none

[rtp]
audio_rtp_port=${o.rtpPort}
video_rtp_port=-1
text_rtp_port=-1
audio_adaptive_jitt_comp_enabled=1

[net]
firewall_policy=0

[video]
capture=0
display=0
automatically_initiate=0
automatically_accept=0

[sound]
echocancellation=0

[misc]
enable_basic_to_client_group_chat_room_migration=0
prefer_basic_chat_room=1

[proxy_0]
reg_proxy=<sip:${o.server};transport=udp>
reg_route=<sip:${o.server};transport=udp;lr>
reg_identity="${o.user}" <sip:${o.user}@${o.domain}>
reg_expires=120
reg_sendregister=1
publish=0
dial_escape_plus=0

[auth_info_0]
username=${o.user}
passwd=${o.password}
realm=${o.realm}
domain=${o.domain}

${codecs}`;
}

/** Starts linphonec registering `USER@DOMAIN` through `server`. The caller must `stop()` it. */
export async function startLinphone(options: LinphoneOptions): Promise<Linphone> {
  const port = await sparePort('127.0.0.1');
  const rtpPort = await sparePort('127.0.0.1', 2);
  const domain = options.domain ?? options.server.replace(/:\d+$/, '');
  const realm = options.realm ?? domain;
  const runDir = mkdtempSync(join(tmpdir(), 'voxlite-linphone-'));
  mkdirSync(join(runDir, '.local', 'share', 'linphone'), { recursive: true });
  writeFileSync(join(runDir, 'rc'), rc({ user: options.user, password: options.password, server: options.server, domain, realm, port, rtpPort }));
  // files mode plays this (looped) into calls: 2 s of silence
  const source = join(runDir, 'source.wav');
  writeFileSync(source, writeWav({ sampleRate: 8000, channels: 1, samples: new Int16Array(16000) }));

  const debug = options.debug !== false;
  const proc = startPeer('linphonec', ['-c', join(runDir, 'rc'), '-S', '-d', debug ? '6' : '0'], {
    cwd: runDir,
    env: { ...process.env, HOME: runDir, XDG_RUNTIME_DIR: runDir },
    maxMs: options.maxMs ?? 60_000,
  });
  const command = (line: string): void => {
    if (proc.child.exitCode === null) proc.child.stdin?.write(`${line}\n`);
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    command('quit');
    const quit = setTimeout(() => void proc.stop(), 1500);
    await proc.exited(5000);
    clearTimeout(quit);
    await proc.stop();
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    command('soundcard use files');
    command(`play ${source}`);
    await proc.waitFor(/Using wav files instead of soundcard/, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    port,
    identity: `sip:${options.user}@${domain}`,
    process: proc,
    command,
    async waitRegistered(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        command('status register');
        try {
          await proc.waitFor(/^(?:linphonec> )*registered, identity=/m, 500);
          return;
        } catch (error) {
          if (Date.now() > deadline || proc.child.exitCode !== null) {
            throw new Error(`linphonec did not register within ${timeoutMs} ms: ${String(error)}`);
          }
        }
      }
    },
    waitFor: (pattern, timeoutMs) => proc.waitFor(pattern, timeoutMs),
    log: () => proc.output(),
    stop,
  };
}

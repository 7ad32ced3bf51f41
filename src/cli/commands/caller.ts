/**
 * `voxlite caller`: rtclite's `caller` options (same names and defaults) on top of the
 * `Caller` library class. Argument errors print one line and exit 2; the run's exit code is
 * the `Caller` result's (0 ok, 3 registration failed, 4 rejected, 5 no answer, 6 media).
 */
import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Caller, EXIT, isSipTarget, type CallerResult } from '../../ua/caller.js';
import { defaultOptions, type CallerCodec, type CallerOptions, type CallerTransport, type DtmfMethod } from '../../ua/caller-options.js';
import { UsageError } from '../usage.js';

export const CALLER_HELP = `usage: voxlite caller [options]

A SIP endpoint for the command line: register, call, chat, DTMF, play/record/speak/recognise.
Either --to (call or message someone) or --listen/--register (wait for calls) is needed.

rtclite options (same names and defaults):
  -v, --verbose              log every SIP message sent and received
  -q, --quiet                log errors only
  --int-ip IP                bind address for SIP and RTP (default 0.0.0.0)
  --ext-ip IP                address advertised in Via, Contact and SDP (default: the local IP)
  --transport LIST           udp, tcp, tls, ws, wss; comma-separated, first is used (default udp)
  --port N                   SIP port; TLS/WSS use N+1; 0 = any (default 5092)
  --listen-queue N           accepted for compatibility (default 5)
  --max-size N               largest SIP message accepted, octets (default 4096, at least 64 KiB used)
  --fix-nat                  prefer the packet source over a private Contact address
  --user-agent TEXT          User-Agent header of INVITE and MESSAGE
  --subject TEXT             Subject header of INVITE and MESSAGE
  --user NAME                user part of our AOR (default: login name)
  --domain HOST              host part of our AOR (default: host name)
  --proxy HOST[:PORT]        outbound proxy (Route: <sip:proxy;lr>; REGISTER goes to it)
  --strict-route             strict routing through --proxy (no ;lr)
  --authuser NAME            digest user name
  --authpass PASSWORD        digest password
  --to ADDRESS               target, e.g. "Bob" <sip:bob@example.net>
  --uri URI                  Request-URI (default: the URI of --to)
  --listen                   accept incoming calls and messages
  --register                 register (alone it implies --listen)
  --register-interval S      registration Expires (default 3600)
  --retry-interval S         wait before retrying a failed registration (default 60)
  --send TEXT                send TEXT as an instant message instead of calling
  --auto-respond CODE        answer incoming INVITE/MESSAGE with CODE; 0 = never (default 200)
  --auto-respond-after S     seconds before answering an incoming call (default 3)
  --auto-terminate-after S   hang up an answered incoming call after S seconds; 0 = never (default 0)
  --use-lf                   bare LF line ends in SIP and SDP (for broken peers)
  --no-sdp                   no SDP in our INVITE (no media)
  --no-audio                 no sound device (--play/--record still work)
  --audio-loopback           send back the audio received
  --samplerate HZ            sound device rate (default 44100)
  --no-touchtone             no telephone-event; typed digits are not DTMF
  --recognize                recognise received speech (pocketsphinx; needs --phrases)
  --textspeech               speak typed text into the call (espeak-ng)

voxlite additions:
  --play FILE                play a WAV file into the call instead of the microphone
  --record FILE              record received audio to a WAV file
  --codecs LIST              pcmu, pcma, g722, opus in preference order (default pcmu,pcma)
  --dtmf-method M            rfc4733 (default) or info
  --hangup-after S           hang up an answered outgoing call after S seconds; 0 = never
  --timeout S                give up (CANCEL) an unanswered outgoing call after S seconds
  --phrases LIST             comma-separated phrases for --recognize
  --tls-cert FILE            PEM certificate for TLS/WSS listeners (with --tls-key)
  --tls-key FILE             PEM key
  --json                     one JSON event per line on stdout (logs go to stderr)

While running, type a line: digits 0-9*#A-D are sent as DTMF in a call, /hold, /resume,
/hangup and /quit are commands, other text is a message (or speech with --textspeech).

Exit codes: 0 ok, 1 error, 2 usage, 3 registration failed, 4 call or message rejected
(the SIP status is printed), 5 no answer or timeout, 6 media failure.`;

const OPTIONS = {
  verbose: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
  test: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'int-ip': { type: 'string' },
  'ext-ip': { type: 'string' },
  transport: { type: 'string' },
  port: { type: 'string' },
  'listen-queue': { type: 'string' },
  'max-size': { type: 'string' },
  'fix-nat': { type: 'boolean' },
  'user-agent': { type: 'string' },
  subject: { type: 'string' },
  user: { type: 'string' },
  domain: { type: 'string' },
  proxy: { type: 'string' },
  'strict-route': { type: 'boolean' },
  authuser: { type: 'string' },
  authpass: { type: 'string' },
  to: { type: 'string' },
  uri: { type: 'string' },
  listen: { type: 'boolean' },
  register: { type: 'boolean' },
  'register-interval': { type: 'string' },
  'retry-interval': { type: 'string' },
  send: { type: 'string' },
  'auto-respond': { type: 'string' },
  'auto-respond-after': { type: 'string' },
  'auto-terminate-after': { type: 'string' },
  'use-lf': { type: 'boolean' },
  'no-sdp': { type: 'boolean' },
  'no-audio': { type: 'boolean' },
  'audio-loopback': { type: 'boolean' },
  samplerate: { type: 'string' },
  'no-touchtone': { type: 'boolean' },
  recognize: { type: 'boolean' },
  textspeech: { type: 'boolean' },
  play: { type: 'string' },
  record: { type: 'string' },
  codecs: { type: 'string' },
  'dtmf-method': { type: 'string' },
  'hangup-after': { type: 'string' },
  timeout: { type: 'string' },
  phrases: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

function integer(name: string, value: string | undefined, fallback: number, min = 0, max = 2 ** 31): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name} needs an integer, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function seconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`--${name} needs a number of seconds, got "${value}"`);
  return Number(value);
}

function list<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T[]): T[] {
  if (value === undefined) return fallback;
  const items = value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--${name} needs at least one of ${allowed.join(', ')}`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`--${name}: unknown "${item}" (one of ${allowed.join(', ')})`);
  }
  return items as T[];
}

/** argv (after `caller`) → options. @throws UsageError */
export function parseCallerArgs(argv: readonly string[]): CallerOptions & { help: boolean; test: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
  const v = parsed.values;
  const d = defaultOptions();
  const options: CallerOptions = {
    ...d,
    verbose: v.verbose ?? false,
    quiet: v.quiet ?? false,
    intIp: v['int-ip'] ?? d.intIp,
    extIp: v['ext-ip'] ?? d.extIp,
    transport: list<CallerTransport>('transport', v.transport, ['udp', 'tcp', 'tls', 'ws', 'wss'], d.transport),
    port: integer('port', v.port, d.port, 0, 65535),
    listenQueue: integer('listen-queue', v['listen-queue'], d.listenQueue, 0),
    maxSize: integer('max-size', v['max-size'], d.maxSize, 512),
    fixNat: v['fix-nat'] ?? false,
    userAgent: v['user-agent'] ?? d.userAgent,
    subject: v.subject ?? d.subject,
    user: v.user ?? d.user,
    domain: v.domain ?? d.domain,
    proxy: v.proxy ?? d.proxy,
    strictRoute: v['strict-route'] ?? false,
    authuser: v.authuser ?? d.authuser,
    authpass: v.authpass ?? d.authpass,
    to: v.to,
    uri: v.uri,
    listen: v.listen ?? false,
    register: v.register ?? false,
    registerInterval: integer('register-interval', v['register-interval'], d.registerInterval, 1),
    retryInterval: integer('retry-interval', v['retry-interval'], d.retryInterval, 1),
    send: v.send ?? d.send,
    autoRespond: integer('auto-respond', v['auto-respond'], d.autoRespond, 0, 699),
    autoRespondAfter: seconds('auto-respond-after', v['auto-respond-after'], d.autoRespondAfter),
    autoTerminateAfter: seconds('auto-terminate-after', v['auto-terminate-after'], d.autoTerminateAfter),
    useLf: v['use-lf'] ?? false,
    sdp: !(v['no-sdp'] ?? false),
    audio: !(v['no-audio'] ?? false),
    audioLoopback: v['audio-loopback'] ?? false,
    samplerate: integer('samplerate', v.samplerate, d.samplerate, 8000, 192000),
    touchtone: !(v['no-touchtone'] ?? false),
    recognize: v.recognize ?? false,
    textspeech: v.textspeech ?? false,
    play: v.play,
    record: v.record,
    codecs: list<CallerCodec>('codecs', v.codecs, ['pcmu', 'pcma', 'g722', 'opus'], d.codecs),
    dtmfMethod: list<DtmfMethod>('dtmf-method', v['dtmf-method'], ['rfc4733', 'info'], [d.dtmfMethod])[0]!,
    hangupAfter: seconds('hangup-after', v['hangup-after'], d.hangupAfter),
    timeout: seconds('timeout', v.timeout, d.timeout),
    json: v.json ?? false,
    phrases: (v.phrases ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    tlsCert: v['tls-cert'],
    tlsKey: v['tls-key'],
  };
  if (options.autoRespond !== 0 && options.autoRespond < 100) throw new UsageError('--auto-respond must be 0 or a SIP status code');
  if (options.to !== undefined && !isSipTarget(options.to)) throw new UsageError(`--to: not a SIP address: ${options.to}`);
  if (options.recognize && options.phrases.length === 0) throw new UsageError('--recognize needs --phrases "first phrase,second phrase" (offline recognition listens for known phrases)');
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const help = v.help ?? false;
  const test = v.test ?? false;
  if (!help && !test && options.to === undefined && !options.listen && !options.register) {
    throw new UsageError('must supply --to option with the target SIP address (or --listen / --register)');
  }
  return { ...options, help, test };
}

function timestamp(): string {
  return new Date().toISOString().slice(11, 23);
}

/** Runs the caller until it finishes or is interrupted; returns the exit code. */
export async function runCaller(argv: readonly string[], io: { out: (line: string) => void; err: (line: string) => void } = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
}): Promise<number> {
  const options = parseCallerArgs(argv);
  if (options.help) {
    io.out(CALLER_HELP);
    return EXIT.ok;
  }
  if (options.test) return EXIT.ok;
  const caller = new Caller(options);
  const json = options.json;
  const logLine = json ? io.err : io.out;
  const event = (name: string, payload: object): void => {
    if (json) io.out(JSON.stringify({ event: name, time: new Date().toISOString(), ...payload }));
  };
  caller.on('log', ({ level, message }) => {
    if (options.quiet && level !== 'error') return;
    if (level === 'debug' && !options.verbose) return;
    const name = level === 'warn' ? 'WARNING' : level.toUpperCase();
    logLine(`${timestamp()} caller ${name} - ${message}`);
  });
  caller.on('trace', ({ direction, text, peer }) => {
    if (options.quiet) return;
    // Printed as it went on the wire (CRLF or, with --use-lf, bare LF).
    logLine(`${timestamp()} caller DEBUG - ${direction === 'sent' ? 'sending to' : 'received from'} ${peer}\n${text}`);
  });
  caller.on('registered', (e) => event('registered', e));
  caller.on('registrationFailed', (e) => event('registrationFailed', e));
  caller.on('ringing', (e) => event('ringing', e));
  caller.on('answered', (e) => event('answered', e));
  caller.on('incoming', (e) => event('incoming', e));
  caller.on('held', (e) => event('held', e));
  caller.on('quality', (e) => event('quality', e));
  caller.on('dtmf', (e) => {
    if (e.direction === 'received' && !json) io.out(`<<< DTMF ${e.digit}`);
    event('dtmf', e);
  });
  caller.on('message', (e) => {
    if (!json) io.out(`<<< ${e.text}`);
    event('message', e);
  });
  caller.on('speech', (e) => {
    if (!json) io.out(`<<< SPEECH ${e.text}`);
    event('speech', e);
  });

  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    if (!json) io.out('');
    void caller.close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const input = createInterface({ input: process.stdin, terminal: false });
  let typing = Promise.resolve();
  input.on('line', (line) => {
    typing = typing.then(() => caller.sendText(line)).catch((error: unknown) => io.err(`voxlite: ${String(error)}`));
  });
  input.on('close', () => {
    // A --send run without --listen is over once its message is answered and stdin is done.
    if (options.send !== '' && !options.listen) {
      void typing.then(async () => {
        await caller.start().catch(() => {});
        const response = caller.lastMessageResponse;
        finalResult ??=
          response !== undefined && response.status < 300
            ? { code: EXIT.ok, reason: 'message sent' }
            : {
                code: EXIT.rejected,
                reason: `message rejected: ${response?.status ?? 'no response'} ${response?.reason ?? ''}`.trim(),
                ...(response === undefined ? {} : { status: response.status }),
              };
        await caller.close();
      });
    }
  });

  let finalResult: CallerResult | undefined;
  let result: CallerResult;
  try {
    result = await caller.wait();
  } finally {
    input.close();
  }
  await caller.close();
  await typing;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const final = finalResult ?? result;
  event('ended', final);
  if (final.code !== EXIT.ok) io.err(`voxlite caller: ${final.reason}`);
  return final.code;
}

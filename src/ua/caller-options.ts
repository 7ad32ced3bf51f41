/**
 * Options of the `caller` application: rtclite's `caller` options under the same names (in
 * camelCase here, `--kebab-case` on the command line) and defaults, plus voxlite's additions.
 * A plain object, so programs build one with {@link defaultOptions} and change what they need;
 * the library never reads global state (a parity fix over rtclite, RTCLITE.md §2.13).
 */
import { hostname, networkInterfaces, userInfo } from 'node:os';

export type CallerTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
export type CallerCodec = 'pcmu' | 'pcma' | 'g722' | 'opus';
export type DtmfMethod = 'rfc4733' | 'info';

export interface CallerOptions {
  /** `-v`: log every SIP message sent and received. */
  verbose: boolean;
  /** `-q`: log nothing but errors (wins over `verbose`). */
  quiet: boolean;
  /** `--int-ip`: bind address for SIP and RTP sockets. */
  intIp: string;
  /** `--ext-ip`: address advertised in Via, Contact and SDP `c=`. Default: `intIp` unless that is a wildcard, else the first non-internal IPv4. */
  extIp: string;
  /** `--transport`: comma-separated list; the first is used for outgoing requests. */
  transport: CallerTransport[];
  /** `--port`: SIP listen port (TLS and WSS use port+1); 0 picks one. */
  port: number;
  /** `--listen-queue`: kept for compatibility; Node sizes listen backlogs itself. */
  listenQueue: number;
  /** `--max-size`: largest SIP message accepted, octets. */
  maxSize: number;
  /** `--fix-nat`: use the real source address instead of a private Contact address of a public peer. */
  fixNat: boolean;
  /** `--user-agent`: User-Agent header of INVITE and MESSAGE. */
  userAgent: string;
  /** `--subject`: Subject header of INVITE and MESSAGE. */
  subject: string;
  /** `--user`: user part of our AOR and Contact. */
  user: string;
  /** `--domain`: host part of our AOR. */
  domain: string;
  /** `--proxy`: outbound proxy `host[:port]`. */
  proxy: string;
  /** `--strict-route`: leave `;lr` off the proxy Route (strict routing). */
  strictRoute: boolean;
  /** `--authuser` / `--authpass`: digest credentials (both needed). */
  authuser: string;
  authpass: string;
  /** `--to`: target address, e.g. `"Bob" <sip:bob@example.com>`. */
  to: string | undefined;
  /** `--uri`: Request-URI; default the URI of `to`. */
  uri: string | undefined;
  /** `--listen`: accept incoming calls and messages. */
  listen: boolean;
  /** `--register`: register with the proxy or domain. */
  register: boolean;
  /** `--register-interval`: Expires of REGISTER, seconds. */
  registerInterval: number;
  /** `--retry-interval`: seconds before retrying a failed registration. */
  retryInterval: number;
  /** `--send`: send this text as a MESSAGE instead of calling. */
  send: string;
  /** `--auto-respond`: answer incoming INVITE/MESSAGE with this code; 0 = never. */
  autoRespond: number;
  /** `--auto-respond-after`: seconds before a 2xx to an incoming INVITE. */
  autoRespondAfter: number;
  /** `--auto-terminate-after`: seconds after answering before sending BYE; 0 = never. */
  autoTerminateAfter: number;
  /** `--use-lf`: LF instead of CRLF in SDP and in SIP messages sent. */
  useLf: boolean;
  /** `--no-sdp` clears it: offer no SDP (and so no media) in our INVITE. */
  sdp: boolean;
  /** `--no-audio` clears it: no sound device (RTP still flows; `--play`/`--record` still work). */
  audio: boolean;
  /** `--audio-loopback`: send back the audio received. */
  audioLoopback: boolean;
  /** `--samplerate`: sound device rate, Hz. */
  samplerate: number;
  /** `--no-touchtone` clears it: no telephone-event, typed digits are not DTMF. */
  touchtone: boolean;
  /** `--recognize`: recognise received speech (pocketsphinx, offline) from `phrases`. */
  recognize: boolean;
  /** `--textspeech`: typed text is spoken into the call (espeak-ng). */
  textspeech: boolean;
  // ----- voxlite additions
  /** `--play FILE`: WAV into the call instead of the microphone. */
  play: string | undefined;
  /** `--record FILE`: received audio to a WAV file. */
  record: string | undefined;
  /** `--codecs`: offered/accepted codecs in preference order. */
  codecs: CallerCodec[];
  /** `--dtmf-method`: how typed digits are sent. */
  dtmfMethod: DtmfMethod;
  /** `--hangup-after`: seconds after an outgoing call is answered before BYE; 0 = never. */
  hangupAfter: number;
  /** `--json`: one JSON event per line on stdout (logs go to stderr). */
  json: boolean;
  /** `--phrases`: what `--recognize` listens for (comma-separated on the command line). */
  phrases: string[];
  /** `--tls-cert` / `--tls-key`: PEM files for TLS/WSS listeners. */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** `--timeout`: seconds to wait for an answer to an outgoing INVITE before CANCEL; 0 = the transaction's own. */
  timeout: number;
}

function defaultUser(): string {
  try {
    return userInfo().username || 'caller';
  } catch {
    return 'caller';
  }
}

/** The first non-internal IPv4 address, else 127.0.0.1 (rtclite's `getlocaladdr()`). */
export function localAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) return entry.address;
    }
  }
  return '127.0.0.1';
}

/** rtclite's defaults, plus voxlite's for the new options. A new object each call. */
export function defaultOptions(): CallerOptions {
  return {
    verbose: false,
    quiet: false,
    intIp: '0.0.0.0',
    extIp: '',
    transport: ['udp'],
    port: 5092,
    listenQueue: 5,
    maxSize: 4096,
    fixNat: false,
    userAgent: '',
    subject: '',
    user: defaultUser(),
    domain: hostname(),
    proxy: '',
    strictRoute: false,
    authuser: '',
    authpass: '',
    to: undefined,
    uri: undefined,
    listen: false,
    register: false,
    registerInterval: 3600,
    retryInterval: 60,
    send: '',
    autoRespond: 200,
    autoRespondAfter: 3,
    autoTerminateAfter: 0,
    useLf: false,
    sdp: true,
    audio: true,
    audioLoopback: false,
    samplerate: 44100,
    touchtone: true,
    recognize: false,
    textspeech: false,
    play: undefined,
    record: undefined,
    codecs: ['pcmu', 'pcma'],
    dtmfMethod: 'rfc4733',
    hangupAfter: 0,
    json: false,
    phrases: [],
    tlsCert: undefined,
    tlsKey: undefined,
    timeout: 0,
  };
}

/** The address to advertise: `extIp`, else `intIp` unless it is a wildcard, else the machine's first IPv4. */
export function advertisedAddress(options: CallerOptions): string {
  if (options.extIp !== '') return options.extIp;
  if (options.intIp !== '0.0.0.0' && options.intIp !== '::') return options.intIp;
  return localAddress();
}

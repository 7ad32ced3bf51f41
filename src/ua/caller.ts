/**
 * The `caller` application as a library: register, call, send and receive instant messages,
 * send and receive DTMF, play, record, speak and recognise audio — rtclite's `Caller`
 * (RTCLITE.md §2) with its gaps closed. The `voxlite caller` command is a thin layer over it.
 *
 * ```ts
 * const options = defaultOptions();
 * options.to = 'sip:bob@example.net';
 * const caller = new Caller(options);
 * const result = await caller.wait();   // starts on first use
 * await caller.close();
 * ```
 */
import { readFileSync } from 'node:fs';
import { SystemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { TypedEmitter } from '../core/events.js';
import type { Logger, LogLevel } from '../core/log.js';
import { CryptoRandom, type Random } from '../core/random.js';
import type { Dialog } from '../dialog/index.js';
import type { MediaSink, MediaSource } from '../media/port.js';
import { DeviceSink } from '../media/sinks/device.js';
import { Loopback } from '../media/sinks/loopback.js';
import { SpeechRecognizer } from '../media/sinks/recognizer.js';
import { WavFileSink } from '../media/sinks/wav-file.js';
import { DeviceSource } from '../media/sources/device.js';
import { SpeechSource } from '../media/sources/speech.js';
import { WavFileSource } from '../media/sources/wav-file.js';
import type { RtpSessionStats } from '../rtp/index.js';
import { isSipUri, parseNameAddr, type SipRequest, type SipResponse } from '../sip/index.js';
import { TransportLayer, type ListenerConfig } from '../transport/index.js';
import { CallMedia, type CallAudioFormat } from './call-media.js';
import { advertisedAddress, defaultOptions, type CallerOptions } from './caller-options.js';
import { TracingTransport } from './tracing-transport.js';
import { UserAgent, type IncomingRequest } from './user-agent.js';

/** Exit codes of the caller (also `CallerResult.code`). */
export const EXIT = Object.freeze({
  ok: 0,
  error: 1,
  usage: 2,
  registrationFailed: 3,
  rejected: 4,
  noAnswer: 5,
  media: 6,
});

/** How a caller run ended. */
export interface CallerResult {
  /** One of {@link EXIT}. */
  readonly code: number;
  /** What happened, e.g. `call rejected: 486 Busy Here`. */
  readonly reason: string;
  /** The SIP status behind it, when there is one. */
  readonly status?: number;
}

/** A call-quality report (from RTP/RTCP statistics). */
export interface QualityReport {
  readonly codec: string;
  readonly durationMs: number;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  readonly lossPercent: number;
  readonly jitterMs: number;
  readonly rttMs: number | null;
  readonly mos: number | null;
  readonly rtcpSent: number;
  readonly rtcpReceived: number;
}

/** Events of a {@link Caller}: what the CLI prints, in JSON with `--json`. */
export interface CallerEvents extends Record<string, unknown> {
  log: { readonly level: LogLevel; readonly message: string };
  /** A SIP message sent or received (only with `verbose`). */
  trace: { readonly direction: 'sent' | 'received'; readonly text: string; readonly peer: string };
  registered: { readonly aor: string; readonly expires: number };
  registrationFailed: { readonly status: number; readonly reason: string };
  ringing: { readonly status: number; readonly reason: string };
  answered: { readonly status: number };
  incoming: { readonly from: string };
  dtmf: { readonly digit: string; readonly direction: 'received' | 'sent' };
  message: { readonly from: string; readonly text: string };
  speech: { readonly text: string };
  quality: QualityReport;
  held: { readonly held: boolean };
  ended: CallerResult;
}

type CallState = 'idle' | 'inviting' | 'invited' | 'active' | 'closing';

/** The one call a caller handles at a time (a second incoming INVITE gets 486). */
interface ActiveCall {
  state: CallState;
  direction: 'outgoing' | 'incoming';
  dialog: Dialog | undefined;
  media: CallMedia | undefined;
  speech: SpeechSource | undefined;
  cancel: AbortController;
  timers: TimerHandle[];
  held: boolean;
}

function quality(stats: RtpSessionStats): QualityReport {
  return {
    codec: stats.codec,
    durationMs: Math.round(stats.durationMs),
    packetsSent: stats.send.packets,
    packetsReceived: stats.receive.packets,
    packetsLost: Math.max(0, stats.receive.lost),
    lossPercent: Math.round(Math.max(0, stats.receive.lossPercent) * 100) / 100,
    jitterMs: Math.round(stats.receive.jitterMs * 100) / 100,
    rttMs: stats.rtt.ms === undefined ? null : Math.round(stats.rtt.ms * 100) / 100,
    mos: stats.quality === undefined ? null : Math.round(stats.quality.mos * 100) / 100,
    rtcpSent: stats.rtcp.sent,
    rtcpReceived: stats.rtcp.received,
  };
}

/** Constructor extras that are not caller options: injected clock, randomness and logger. */
export interface CallerEnvironment {
  readonly clock?: Clock;
  readonly random?: Random;
  /** Where the UA stack logs (the caller's own log lines go to the `log` event). */
  readonly stackLogger?: Logger;
}

export class Caller extends TypedEmitter<CallerEvents> {
  readonly options: CallerOptions;
  private readonly clock: Clock;
  private readonly random: Random;
  private ua: UserAgent | undefined;
  private transport: TransportLayer | undefined;
  private starting: Promise<void> | undefined;
  private done: Promise<CallerResult>;
  private resolveDone!: (result: CallerResult) => void;
  private finished = false;
  private call: ActiveCall | undefined;
  private registration: { request: SipRequest; registered: boolean; timer: TimerHandle | undefined } | undefined;
  /** Who typed lines are sent to as MESSAGE: `--to`, or the sender of the first MESSAGE received. */
  private messageTarget: { uri: string; to: string } | undefined;
  private closing: Promise<void> | undefined;
  private readonly environment: CallerEnvironment;

  constructor(options: Partial<CallerOptions> = {}, environment: CallerEnvironment = {}) {
    super();
    this.options = { ...defaultOptions(), ...options };
    this.clock = environment.clock ?? new SystemClock();
    this.random = environment.random ?? new CryptoRandom();
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.environment = environment;
  }

  private log(level: LogLevel, message: string): void {
    this.emit('log', { level, message });
  }

  /** Our AOR, `sip:user@domain` (`sips:` over TLS). */
  get aor(): string {
    const scheme = this.options.transport[0] === 'tls' || this.options.transport[0] === 'wss' ? 'sips' : 'sip';
    return `${scheme}:${this.options.user}@${this.options.domain}`;
  }

  /** The address our SIP listener is reachable at, after start. */
  get localSipAddress(): { host: string; port: number } | undefined {
    const address = this.ua?.localAddress(this.options.transport[0] ?? 'udp');
    return address === undefined ? undefined : { host: address.host, port: address.port };
  }

  /** Opens the sockets, registers and places the call or sends the message. Idempotent. */
  start(): Promise<void> {
    this.starting ??= this.run();
    return this.starting;
  }

  /** Resolves when the run is over: the outgoing call or message finished, or `close()`. */
  async wait(): Promise<CallerResult> {
    void this.start().catch((error: unknown) => this.finish({ code: EXIT.error, reason: String(error instanceof Error ? error.message : error) }));
    return this.done;
  }

  private finish(result: CallerResult): void {
    if (this.finished) return;
    this.finished = true;
    this.emit('ended', result);
    this.resolveDone(result);
  }

  private listenerConfigs(): ListenerConfig[] {
    const o = this.options;
    const tls =
      o.tlsCert !== undefined && o.tlsKey !== undefined ? { cert: readFileSync(o.tlsCert, 'utf8'), key: readFileSync(o.tlsKey, 'utf8') } : undefined;
    const out: ListenerConfig[] = [];
    for (const protocol of o.transport) {
      const secure = protocol === 'tls' || protocol === 'wss';
      if (secure && tls === undefined) continue; // outbound only: no certificate to listen with
      const port = o.port === 0 ? 0 : secure ? o.port + 1 : o.port;
      out.push({ protocol, host: o.intIp, port, ...(secure && tls !== undefined ? { tls } : {}), advertisedHost: advertisedAddress(o) });
    }
    return out;
  }

  private async run(): Promise<void> {
    const o = this.options;
    if (o.to === undefined && !o.listen && !o.register) {
      throw new TypeError('must supply --to option with the target SIP address');
    }
    if (o.register && o.to === undefined) o.listen = true;
    this.transport = new TransportLayer({
      listeners: this.listenerConfigs(),
      clock: this.clock,
      ...(o.useLf ? { lineEnding: 'lf' as const } : {}),
      ...(this.environment.stackLogger === undefined ? {} : { logger: this.environment.stackLogger }),
    });
    await this.transport.listen();
    const traced = new TracingTransport(this.transport, o.verbose ? (direction, text, peer) => this.emit('trace', { direction, text, peer }) : undefined);
    const credentials = o.authuser !== '' && o.authpass !== '' ? { username: o.authuser, password: o.authpass } : undefined;
    this.ua = new UserAgent({
      transport: traced,
      aor: this.aor,
      fixNat: o.fixNat,
      ...(o.transport[0] === undefined ? {} : { preferredTransport: o.transport[0] }),
      clock: this.clock,
      random: this.random,
      ...(credentials === undefined ? {} : { credentials }),
      ...(o.userAgent === '' ? {} : { userAgent: o.userAgent }),
      ...(this.environment.stackLogger === undefined ? {} : { logger: this.environment.stackLogger }),
    });
    await this.ua.start();
    this.ua.onRequest((incoming) => this.receive(incoming));
    this.ua.on('ack', ({ ack, dialog }) => void this.receivedAck(ack, dialog));
    const local = this.localSipAddress;
    if (local !== undefined) this.log('info', `listening on ${o.transport[0]} ${local.host}:${local.port}`);

    if (o.register) {
      const registered = await this.register();
      if (!registered && this.finished) return;
    }
    if (o.to !== undefined) {
      if (o.send !== '') {
        this.messageTarget = { uri: this.requestUri(), to: o.to };
        await this.sendMessage(o.send);
      } else {
        await this.placeCall();
      }
    }
  }

  private requestUri(): string {
    const o = this.options;
    if (o.uri !== undefined) return o.uri;
    if (o.to === undefined) throw new TypeError('no target');
    return parseNameAddr(o.to, 'to').uriText;
  }

  /** Route for out-of-dialog requests through `--proxy` (RFC 3261 §8.1.2): loose, or strict with `--strict-route`. */
  private routed(uri: string): { uri: string; headers: Array<readonly [string, string]> } {
    const o = this.options;
    if (o.proxy === '') return { uri, headers: [] };
    const scheme = o.transport[0] === 'tls' || o.transport[0] === 'wss' ? 'sips' : 'sip';
    if (o.strictRoute) return { uri: `${scheme}:${o.proxy}`, headers: [['Route', `<${uri}>`]] };
    return { uri, headers: [['Route', `<${scheme}:${o.proxy};lr>`]] };
  }

  private commonHeaders(): Array<readonly [string, string]> {
    const headers: Array<readonly [string, string]> = [];
    if (this.options.subject !== '') headers.push(['Subject', this.options.subject]);
    return headers;
  }

  // -------------------------------------------------------------------------------------------
  // Registration (RTCLITE.md §2.3)

  private async register(): Promise<boolean> {
    const ua = this.ua!;
    const o = this.options;
    if (this.registration === undefined) {
      const uri = o.proxy !== '' ? `sip:${o.proxy}` : `sip:${o.domain}`;
      const request = ua.createRequest({ method: 'REGISTER', uri, to: this.aor, from: this.aor, headers: [['Expires', String(o.registerInterval)]] });
      this.registration = { request, registered: false, timer: undefined };
    }
    const registration = this.registration;
    const response = await ua.request(registration.request);
    // The next REGISTER of this binding is the same request with CSeq + 1 (RFC 3261 §10.2.4).
    const next = registration.request.clone();
    const cseq = Math.max(registration.request.cseq().seq, response.cseq().seq);
    next.headers.set('CSeq', `${cseq + 1} REGISTER`);
    next.headers.delete('Authorization');
    next.headers.delete('Proxy-Authorization');
    registration.request = next;
    if (response.status >= 200 && response.status < 300) {
      registration.registered = true;
      const expires = Number(response.headers.get('expires') ?? o.registerInterval) || o.registerInterval;
      this.log('info', `registered with SIP server as <${this.aor}>`);
      this.emit('registered', { aor: this.aor, expires });
      const refreshIn = Math.max(expires - (5 + this.random.int(11)), 5);
      registration.timer = this.clock.setTimer(refreshIn * 1000, () => void this.register());
      return true;
    }
    this.log('warn', `failed to register with response ${response.status}`);
    this.emit('registrationFailed', { status: response.status, reason: response.reason });
    if (response.status === 401 || response.status === 407 || response.status === 403) {
      // The same credentials would fail again: stop instead of retrying forever.
      this.finish({ code: EXIT.registrationFailed, reason: `registration failed: ${response.status} ${response.reason}`, status: response.status });
      return false;
    }
    registration.timer = this.clock.setTimer(o.retryInterval * 1000, () => void this.register());
    return false;
  }

  private async unregister(): Promise<void> {
    const registration = this.registration;
    if (registration === undefined || this.ua === undefined) return;
    registration.timer?.cancel();
    if (!registration.registered) return;
    const request = registration.request.clone();
    request.headers.set('Expires', '0');
    await this.ua.request(request);
  }

  // -------------------------------------------------------------------------------------------
  // Media wiring (RTCLITE.md §2.9, fixed: no record.au unless asked, RTCP sent)

  private async openMedia(call: ActiveCall): Promise<CallMedia> {
    const o = this.options;
    return CallMedia.open({
      bindAddress: o.intIp,
      advertisedAddress: advertisedAddress(o),
      codecs: o.codecs,
      telephoneEvent: o.touchtone,
      lineEnding: o.useLf ? 'lf' : 'crlf',
      clock: this.clock,
      random: this.random,
      onDtmf: (digit) => {
        this.log('info', `received DTMF ${digit}`);
        this.emit('dtmf', { digit, direction: 'received' });
      },
      createSource: (format) => this.createSource(call, format),
      createSinks: (format) => this.createSinks(call, format),
    });
  }

  private loopback: Loopback | undefined;

  private async createSource(call: ActiveCall, format: CallAudioFormat): Promise<MediaSource | undefined> {
    const o = this.options;
    const frame = { sampleRate: format.sampleRate, frameSize: format.frameSize };
    if (o.audioLoopback) {
      this.loopback = new Loopback(frame);
      return this.loopback;
    }
    if (o.textspeech) {
      call.speech = new SpeechSource(frame);
      return call.speech;
    }
    if (o.play !== undefined) return WavFileSource.open(o.play, frame);
    if (o.audio) {
      const device = new DeviceSource({ ...frame, deviceRate: o.samplerate });
      await device.start();
      return device;
    }
    return undefined;
  }

  private async createSinks(_call: ActiveCall, format: CallAudioFormat): Promise<MediaSink[]> {
    const o = this.options;
    const sinks: MediaSink[] = [];
    if (o.audioLoopback && this.loopback !== undefined) sinks.push(this.loopback);
    if (o.record !== undefined) sinks.push(await WavFileSink.open(o.record, { sampleRate: format.sampleRate }));
    if (o.recognize) {
      const recognizer = new SpeechRecognizer({ phrases: o.phrases, sampleRate: format.sampleRate });
      recognizer.on('phrase', (event) => {
        this.emit('speech', { text: event.text });
      });
      await recognizer.start();
      sinks.push(recognizer);
    }
    if (o.audio && !o.audioLoopback) {
      const device = new DeviceSink({ sampleRate: format.sampleRate, deviceRate: o.samplerate });
      await device.start();
      sinks.push(device);
    }
    return sinks;
  }

  private newCall(direction: 'outgoing' | 'incoming', state: CallState): ActiveCall {
    const call: ActiveCall = { state, direction, dialog: undefined, media: undefined, speech: undefined, cancel: new AbortController(), timers: [], held: false };
    this.call = call;
    return call;
  }

  // -------------------------------------------------------------------------------------------
  // Outgoing call (RTCLITE.md §2.4)

  private async placeCall(): Promise<void> {
    const ua = this.ua!;
    const o = this.options;
    const call = this.newCall('outgoing', 'inviting');
    try {
      if (o.sdp) call.media = await this.openMedia(call);
    } catch (error) {
      await this.endCall(call, { code: EXIT.media, reason: `media failed: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    const { uri, headers } = this.routed(this.requestUri());
    const invite = ua.createRequest({
      method: 'INVITE',
      uri,
      to: o.to!,
      from: this.aor,
      headers: [...headers, ...this.commonHeaders()],
      ...(call.media === undefined ? {} : { body: call.media.createOffer(), contentType: 'application/sdp' }),
    });
    if (o.timeout > 0) call.timers.push(this.clock.setTimer(o.timeout * 1000, () => call.cancel.abort(new Error('no answer'))));
    let response: SipResponse;
    try {
      response = await ua.request(invite, {
        signal: call.cancel.signal,
        onProvisional: (r) => {
          this.log('info', `received response in state 'inviting': ${r.status} ${r.reason}`);
          if (r.status > 100) this.emit('ringing', { status: r.status, reason: r.reason });
          // 183 with SDP: early media (RFC 3960 gateway model).
          if (r.body.length > 0 && call.media !== undefined && call.media.result === undefined) {
            call.media.setRemoteAnswer(r.body.toString('latin1')).catch((error: unknown) => this.log('warn', `invalid early media SDP: ${String(error)}`));
          }
        },
      });
    } catch (error) {
      // Aborted before the INVITE went out (--timeout, Ctrl-C): nobody answered.
      const cancelled = call.cancel.signal.aborted;
      await this.endCall(call, {
        code: cancelled ? (this.closing !== undefined ? EXIT.ok : EXIT.noAnswer) : EXIT.error,
        reason: cancelled ? 'no answer: cancelled before any response' : `call failed: ${error instanceof Error ? error.message : String(error)}`,
      });
      return;
    }
    this.log('info', `received response in state 'inviting': ${response.status} ${response.reason}`);
    if (response.status >= 300 || response.status < 200) {
      const cancelled = call.cancel.signal.aborted;
      // 503 Transport Error is made locally when the target could not be reached at all.
      const unreachable = response.status === 503 && response.reason === 'Transport Error';
      const noAnswer = response.status === 408 || response.status === 480 || unreachable || (response.status === 487 && cancelled);
      await this.endCall(call, {
        code: cancelled && this.closing !== undefined ? EXIT.ok : noAnswer ? EXIT.noAnswer : EXIT.rejected,
        reason: noAnswer ? `no answer: ${response.status} ${response.reason}` : `call rejected: ${response.status} ${response.reason}`,
        status: response.status,
      });
      return;
    }
    call.dialog = ua.dialogOf(response);
    call.state = 'active';
    this.emit('answered', { status: response.status });
    if (call.media !== undefined) {
      if (response.body.length > 0) {
        try {
          await call.media.setRemoteAnswer(response.body.toString('latin1'));
        } catch (error) {
          this.log('warn', `invalid media received in 200 OK: ${error instanceof Error ? error.message : String(error)}`);
          await this.hangup(call, { code: EXIT.media, reason: 'media failed: unusable SDP answer' });
          return;
        }
      } else {
        this.log('warn', 'invalid media received in 200 OK: no SDP answer');
      }
    }
    if (this.closing !== undefined || call.cancel.signal.aborted) {
      await this.hangup(call, { code: EXIT.ok, reason: 'call closed' });
      return;
    }
    if (o.hangupAfter > 0) call.timers.push(this.clock.setTimer(o.hangupAfter * 1000, () => void this.hangup(call, { code: EXIT.ok, reason: 'call completed' })));
  }

  /** Sends BYE (bounded in time) and ends the call. */
  private async hangup(call: ActiveCall, result: CallerResult): Promise<void> {
    if (call.state === 'closing' || call.state === 'idle') return;
    call.state = 'closing';
    if (call.dialog !== undefined && this.ua !== undefined) {
      const bye = this.ua.requestInDialog(call.dialog, 'BYE').then(
        (r) => this.log('info', `received response in state 'closing': ${r.status} ${r.reason}`),
        () => {},
      );
      // A BYE that gets no answer must not hold the process (a parity fix, RTCLITE.md §2.4).
      await Promise.race([bye, new Promise<void>((r) => this.clock.setTimer(1200, r))]);
    }
    await this.endCall(call, result);
  }

  private async endCall(call: ActiveCall, result: CallerResult): Promise<void> {
    call.state = 'idle';
    for (const t of call.timers) t.cancel();
    const stats = await call.media?.close();
    if (stats !== undefined && stats.durationMs > 0) {
      const report = quality(stats);
      this.log(
        'info',
        `call quality: ${report.codec}, ${(report.durationMs / 1000).toFixed(1)} s, sent ${report.packetsSent} packets, received ${report.packetsReceived}, ` +
          `lost ${report.packetsLost} (${report.lossPercent}%), jitter ${report.jitterMs} ms, RTT ${report.rttMs ?? 'n/a'} ms, MOS ${report.mos ?? 'n/a'}`,
      );
      this.emit('quality', report);
    }
    if (this.call === call) this.call = undefined;
    // rtclite: the end of a call ends the run unless the caller is listening for more.
    if (!this.options.listen) this.finish(result);
  }

  // -------------------------------------------------------------------------------------------
  // Incoming requests (RTCLITE.md §2.5, §2.6)

  private receive(incoming: IncomingRequest): Promise<void> | void {
    const request = incoming.request;
    if (incoming.dialog !== undefined && this.call?.dialog === incoming.dialog) return this.receiveInDialog(incoming, this.call);
    switch (request.method) {
      case 'INVITE':
        if (incoming.dialog !== undefined) {
          incoming.respond(481);
          return;
        }
        return this.receiveInvite(incoming);
      case 'MESSAGE':
        return this.receiveMessage(incoming);
      case 'OPTIONS':
        incoming.respond(200);
        return;
      default:
        return;
    }
  }

  private async receiveInvite(incoming: IncomingRequest): Promise<void> {
    const o = this.options;
    const request = incoming.request;
    if (!o.listen) {
      incoming.respond(501);
      return;
    }
    if (this.call !== undefined) {
      this.log('info', 'rejecting incoming call as already busy');
      incoming.respond(486);
      return;
    }
    const from = request.headers.get('from') ?? '';
    this.log('info', 'received INVITE');
    this.emit('incoming', { from });
    if (o.autoRespond === 0) return new Promise<void>(() => {});
    if (o.autoRespond >= 300 || o.autoRespond < 200) {
      this.log('info', `rejecting incoming call with code ${o.autoRespond}`);
      // rtclite always says 'Decline'; the standard phrase (486 Busy Here, 603 Decline) is clearer.
      incoming.respond(o.autoRespond);
      return;
    }
    this.log('info', `received incoming call from ${from}`);
    const call = this.newCall('incoming', 'invited');
    let answer: string | undefined;
    try {
      call.media = await this.openMedia(call);
      const offer = request.body.length > 0 ? request.body.toString('latin1') : undefined;
      answer = offer === undefined ? call.media.createOffer() : await call.media.answer(offer);
    } catch (error) {
      this.log('info', 'rejected incoming call with incompatible SDP');
      incoming.respond(488, { reason: 'Incompatible SDP' });
      await this.endCall(call, { code: EXIT.media, reason: `media failed: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    // Wait --auto-respond-after seconds, unless the caller gives up first (CANCEL).
    const cancelled = await new Promise<boolean>((resolve) => {
      // The CANCEL may already have come while the media was being set up.
      if (incoming.signal.aborted) {
        resolve(true);
        return;
      }
      const timer = this.clock.setTimer(o.autoRespondAfter * 1000, () => resolve(false));
      incoming.signal.addEventListener('abort', () => {
        timer.cancel();
        resolve(true);
      });
    });
    if (cancelled || incoming.answered) {
      this.log('info', 'incoming call cancelled');
      await this.endCall(call, { code: EXIT.ok, reason: 'call cancelled by remote party' });
      return;
    }
    this.log('info', 'accepting incoming call');
    incoming.respond(o.autoRespond, { body: answer, contentType: 'application/sdp' });
    call.dialog = incoming.dialog;
    call.state = 'active';
    this.emit('answered', { status: o.autoRespond });
    if (o.autoTerminateAfter > 0) {
      call.timers.push(this.clock.setTimer(o.autoTerminateAfter * 1000, () => void this.hangup(call, { code: EXIT.ok, reason: 'call completed' })));
    }
  }

  /** The ACK of a late offer carries the SDP answer (RFC 3264 §5, RFC 3261 §13.2.1). */
  private async receivedAck(ack: SipRequest, dialog: Dialog): Promise<void> {
    const call = this.call;
    if (call === undefined || call.dialog !== dialog || call.media === undefined) return;
    if (ack.body.length > 0 && call.media.result === undefined) {
      try {
        await call.media.setRemoteAnswer(ack.body.toString('latin1'));
      } catch (error) {
        this.log('warn', `invalid SDP in ACK: ${String(error)}`);
      }
    }
  }

  private async receiveInDialog(incoming: IncomingRequest, call: ActiveCall): Promise<void> {
    const request = incoming.request;
    switch (request.method) {
      case 'BYE':
        incoming.respond(200);
        this.log('info', 'call closed by remote party');
        await this.endCall(call, { code: EXIT.ok, reason: 'call closed by remote party' });
        return;
      case 'INFO': {
        // RFC 2976 INFO with application/dtmf-relay (the SIP-INFO DTMF convention).
        const type = request.headers.get('content-type') ?? '';
        const match = /signal\s*=\s*([0-9A-D*#])/i.exec(request.body.toString('latin1'));
        incoming.respond(200);
        if (/dtmf/i.test(type) && match !== null) {
          const digit = match[1]!.toUpperCase();
          this.log('info', `received DTMF ${digit}`);
          this.emit('dtmf', { digit, direction: 'received' });
        }
        return;
      }
      case 'INVITE': {
        // A re-INVITE (hold/resume, new media): answer it from the same negotiator.
        if (call.media === undefined || request.body.length === 0) {
          incoming.respond(200, call.media?.negotiator.localDescription === undefined ? {} : { body: call.media.createOffer() });
          return;
        }
        try {
          const answer = await call.media.answer(request.body.toString('latin1'));
          incoming.respond(200, { body: answer, contentType: 'application/sdp' });
          const remote = call.media.result?.remoteDirection;
          this.emit('held', { held: remote === 'sendonly' || remote === 'inactive' });
        } catch {
          incoming.respond(488);
        }
        return;
      }
      case 'MESSAGE':
        return this.receiveMessage(incoming);
      default:
        incoming.respond(request.method === 'OPTIONS' ? 200 : 501);
    }
  }

  private receiveMessage(incoming: IncomingRequest): void {
    const o = this.options;
    if (!o.listen && incoming.dialog === undefined) {
      incoming.respond(501);
      return;
    }
    const request = incoming.request;
    const text = request.body.toString('utf8');
    const fromValue = request.headers.get('from') ?? '';
    this.emit('message', { from: fromValue, text });
    if (this.messageTarget === undefined) {
      try {
        const from = parseNameAddr(fromValue, 'from');
        // Replies go to the sender: To = its From (without tag), R-URI = its URI (RTCLITE.md §2.6).
        this.messageTarget = { uri: from.uriText, to: `<${from.uriText}>` };
      } catch {
        // keep no reply target
      }
    }
    if (o.autoRespond === 0) return;
    incoming.respond(o.autoRespond);
  }

  // -------------------------------------------------------------------------------------------
  // Typed input (RTCLITE.md §2.7)

  private async sendMessage(text: string): Promise<void> {
    const ua = this.ua;
    const target = this.messageTarget;
    if (ua === undefined || target === undefined) return;
    const { uri, headers } = this.routed(target.uri);
    const request = ua.createRequest({
      method: 'MESSAGE',
      uri,
      to: target.to,
      from: this.aor,
      headers: [...headers, ...this.commonHeaders(), ['Contact', ua.contact()]],
      body: text,
      contentType: 'text/plain;charset=utf-8',
    });
    const response = await ua.request(request);
    if (response.status >= 300) this.log('info', `received response: ${response.status} ${response.reason}`);
    this.lastMessageStatus = response;
  }

  private lastMessageStatus: SipResponse | undefined;

  /**
   * Sends an instant message (RFC 3428) to `to`, or to the current message target (`--to`, or
   * whoever messaged us first), and resolves with the final response.
   */
  async message(text: string, to?: string): Promise<SipResponse | undefined> {
    await this.start();
    if (to !== undefined) {
      const target = parseNameAddr(to, 'to');
      this.messageTarget = { uri: target.uriText, to: target.bracketed ? to : `<${to}>` };
    } else if (this.messageTarget === undefined && this.options.to !== undefined) {
      this.messageTarget = { uri: this.requestUri(), to: this.options.to };
    }
    await this.sendMessage(text);
    return this.lastMessageStatus;
  }

  /** The result of the last MESSAGE we sent, if any. */
  get lastMessageResponse(): SipResponse | undefined {
    return this.lastMessageStatus;
  }

  /**
   * Handles one typed line: digits become DTMF in a call, `/hold`, `/resume`, `/hangup` and
   * `/quit` are commands, other text is spoken (`textspeech`) or sent as a MESSAGE.
   */
  async sendText(line: string): Promise<void> {
    const text = line.trim();
    if (text === '') return;
    const call = this.call;
    if (text.startsWith('/')) {
      await this.command(text.slice(1).toLowerCase(), call);
      return;
    }
    if (call !== undefined && call.state === 'active' && this.options.touchtone && /^[0-9#*A-Da-d]+$/.test(text)) {
      await this.sendDtmf(call, text.toUpperCase());
      return;
    }
    if (call !== undefined && call.state === 'active' && this.options.textspeech && call.speech !== undefined) {
      await call.speech.say(text);
      return;
    }
    // Text goes as a MESSAGE to whoever messaged us, else to --to (during a call too).
    if (this.messageTarget === undefined && this.options.to !== undefined) {
      this.messageTarget = { uri: this.requestUri(), to: this.options.to };
    }
    if (this.messageTarget !== undefined) {
      await this.sendMessage(text);
      return;
    }
    this.log('warn', 'typed text has nowhere to go (no --to, and no message received yet)');
  }

  private async sendDtmf(call: ActiveCall, digits: string): Promise<void> {
    if (this.options.dtmfMethod === 'info') {
      for (const digit of digits) {
        if (call.dialog === undefined || this.ua === undefined) return;
        await this.ua.requestInDialog(call.dialog, 'INFO', { body: `Signal=${digit}\r\nDuration=160\r\n`, contentType: 'application/dtmf-relay' });
        this.emit('dtmf', { digit, direction: 'sent' });
      }
      return;
    }
    const sent = (await call.media?.sendDtmf(digits)) ?? false;
    if (!sent) {
      this.log('warn', 'the peer did not accept telephone-event; digits not sent');
      return;
    }
    for (const digit of digits) this.emit('dtmf', { digit, direction: 'sent' });
  }

  private async command(name: string, call: ActiveCall | undefined): Promise<void> {
    switch (name) {
      case 'hold':
      case 'resume': {
        if (call?.dialog === undefined || call.media === undefined || this.ua === undefined) {
          this.log('warn', `no call to ${name}`);
          return;
        }
        const held = name === 'hold';
        const offer = call.media.reoffer(held ? 'sendonly' : 'sendrecv');
        const response = await this.ua.requestInDialog(call.dialog, 'INVITE', { body: offer, contentType: 'application/sdp' });
        if (response.status >= 200 && response.status < 300 && response.body.length > 0) {
          await call.media.setRemoteAnswer(response.body.toString('latin1'));
          call.held = held;
          this.log('info', held ? 'call on hold' : 'call resumed');
          this.emit('held', { held });
        } else {
          call.media.negotiator.rollback();
          this.log('warn', `${name} failed: ${response.status} ${response.reason}`);
        }
        return;
      }
      case 'hangup':
      case 'bye':
        if (call !== undefined) await this.hangup(call, { code: EXIT.ok, reason: 'call closed' });
        return;
      case 'quit':
        await this.close();
        return;
      default:
        this.log('warn', `unknown command /${name} (try /hold, /resume, /hangup, /quit)`);
    }
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Ends everything: CANCEL or BYE the call, unregister, close sockets. Bounded in time (a
   * peer that never answers cannot hold it), idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const call = this.call;
    // Everything below shares one budget so Ctrl-C ends the process within 2 s.
    const hangup = (async () => {
      if (call === undefined) return;
      if (call.state === 'inviting') {
        call.cancel.abort(new Error('closed'));
        // the INVITE's final response (487) ends the call; give it a moment
        await new Promise<void>((r) => this.clock.setTimer(1000, r));
      } else {
        await this.hangup(call, { code: EXIT.ok, reason: 'call closed' });
      }
    })();
    // Unregistering does not wait for the BYE: both go out at once.
    const work = Promise.allSettled([hangup, this.unregister()]);
    await Promise.race([work, new Promise<void>((r) => this.clock.setTimer(1500, r))]);
    if (call !== undefined) await call.media?.close();
    this.registration?.timer?.cancel();
    await this.ua?.close();
    await this.transport?.close();
    this.finish({ code: EXIT.ok, reason: 'closed' });
  }
}

/** Whether `text` is a usable SIP target (for argument checking). */
export function isSipTarget(text: string): boolean {
  try {
    const value = parseNameAddr(text, 'to');
    return isSipUri(value.uri);
  } catch {
    return false;
  }
}

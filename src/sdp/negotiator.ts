import { assertNever } from '../core/errors.js';
import { CryptoRandom, type Random } from '../core/random.js';
import { addressScope, addressTypeOf, isValidAddress } from './address.js';
import {
  formatFmtp,
  formatRtcpAttribute,
  formatRtpMap,
  getConnection,
  getDirection,
  getMaxPtime,
  getPtime,
  getRtcp,
  isDirection,
} from './attributes.js';
import {
  codecKey,
  codecMatches,
  DYNAMIC_PAYLOAD_TYPE_MIN,
  getRtpFormats,
  isTelephoneEvent,
  staticPayloadType,
  type CodecSpec,
  type RtpFormat,
} from './codecs.js';
import { NegotiationError, SdpStateError } from './errors.js';
import { formatSdp } from './format.js';
import { parseSdp } from './parse.js';
import type {
  AddressScope,
  Attribute,
  LineEnding,
  MediaDescription,
  MediaDirection,
  SessionDescription,
} from './types.js';

/** Offer/answer states (RFC 3264 §4; the names follow JSEP's signaling states). */
export type NegotiatorState = 'idle' | 'local-offer' | 'remote-offer' | 'stable';

/** What a caller can do to the negotiator. */
export type NegotiatorEvent = 'createOffer' | 'setRemoteAnswer' | 'setRemoteOffer' | 'createAnswer' | 'rollback';

/** `previous` = back to the state before the pending offer (RFC 3264 §4: a rejected offer changes nothing). */
type Target = NegotiatorState | 'previous';

// RFC 3264 §4: one offer at a time; an offer is followed by exactly one answer (or rejected),
// and either side may offer again once the previous exchange is complete (§8).
const TRANSITIONS = {
  idle: { createOffer: 'local-offer', setRemoteOffer: 'remote-offer' },
  'local-offer': { setRemoteAnswer: 'stable', rollback: 'previous' },
  'remote-offer': { createAnswer: 'stable', rollback: 'previous' },
  stable: { createOffer: 'local-offer', setRemoteOffer: 'remote-offer' },
} as const satisfies Record<NegotiatorState, Partial<Record<NegotiatorEvent, Target>>>;

/** Local media capabilities: what voxlite offers, or accepts when answering. */
export interface LocalMediaOptions {
  /** Our media (RTP) address, written to `c=` and `o=`. IPv6 literals give `IN IP6`. */
  address: string;
  /** Our RTP port (even by RFC 3550 §11 convention). */
  port: number;
  /** Our RTCP port; default `port + 1`. Any other value is announced with `a=rtcp` (RFC 3605). */
  rtcpPort?: number;
  /** Codecs in order of preference (the order of our offers; answers follow the offerer's order). */
  codecs: readonly CodecSpec[];
  /** Offer/accept RFC 4733 telephone-event (`a=fmtp:<pt> 0-15`). Default false. */
  telephoneEvent?: boolean;
  /** Payload type for telephone-event in our offers; default 101 (the next free dynamic one if taken). */
  telephoneEventPayloadType?: number;
  /** Packetisation time in ms we want to receive (`a=ptime`, RFC 8866 §6.4). Default 20. */
  ptime?: number;
  /** `a=maxptime` to announce (RFC 8866 §6.5), if any. */
  maxPtime?: number;
  /** The direction we want (RFC 3264 §5.1). Default `sendrecv`; `sendonly` = put the peer on hold. */
  direction?: MediaDirection;
  /** Line ending of the SDP we write; default `crlf`. */
  lineEnding?: LineEnding;
  /** `o=` username; default `-`. */
  username?: string;
  /** `s=` session name; default `-`. */
  sessionName?: string;
  /**
   * Accept a remote multicast or broadcast destination. Default false: such streams are rejected
   * (answered with port 0, or a {@link NegotiationError} for an answer), GUARANTEES G39.
   */
  allowMulticast?: boolean;
  /** RTP profiles we accept in offers; default `RTP/AVP` and `RTP/AVPF` (no SRTP, no DTLS). */
  protocols?: readonly string[];
}

/** Construction options that are not media capabilities. */
export interface SdpNegotiatorOptions {
  /** Source of the random `o=` session id. Default {@link CryptoRandom}. */
  random?: Random;
  /** `o=` session id (digits); default random. */
  sessionId?: string;
  /** `o=` version of our first SDP; default equal to the session id (common practice). */
  initialVersion?: bigint;
}

/** The codec the negotiation settled on. */
export interface NegotiatedCodec {
  /** Payload type to send with (the peer's numbering, RFC 3264 §6.1). */
  payloadType: number;
  /** Our name for it (as given in {@link LocalMediaOptions.codecs}). */
  name: string;
  clockRate: number;
  channels: number;
  /** The peer's `fmtp` parameters for this payload type, if any. */
  fmtp?: string;
}

/** The audio stream as agreed by a completed offer/answer exchange. */
export interface NegotiationResult {
  /** Index of the audio `m=` line in the session. */
  mediaIndex: number;
  /** Where to send RTP (the stream's `c=`, else the session `c=`). May be `0.0.0.0` (old-style hold). */
  remoteAddress: string;
  /** What kind of address that is; only `unicast`/`hostname` ever receive media from voxlite. */
  remoteAddressScope: AddressScope;
  remotePort: number;
  /** From `a=rtcp` (RFC 3605), else `remotePort + 1` (RFC 3550 §11). */
  remoteRtcpPort: number;
  /** From `a=rtcp` when it carries an address, else `remoteAddress`. */
  remoteRtcpAddress: string;
  codec: NegotiatedCodec;
  /** Payload type to send RFC 4733 events with; absent when the peer did not take telephone-event. */
  telephoneEventPayloadType?: number;
  /**
   * Clock rate of that telephone-event (its `a=rtpmap` rate), for event durations. Usually the
   * audio codec's (RFC 4733 recommends it), but a peer may only have `telephone-event/8000` next
   * to e.g. `opus/48000` (baresip 1.0 does).
   */
  telephoneEventClockRate?: number;
  /** Payload type the peer will send audio with (our own numbering). */
  receivePayloadType: number;
  /** Payload type the peer will send RFC 4733 events with, if any. */
  receiveTelephoneEventPayloadType?: number;
  /** Packetisation time to send with: the peer's `a=ptime` (capped by its `a=maxptime`), else ours. */
  ptime: number;
  /** Our effective direction (RFC 3264 §6.1), e.g. `recvonly` when the peer put us on hold. */
  direction: MediaDirection;
  /** The peer's effective direction (old-style hold `c=0.0.0.0` counts as not receiving). */
  remoteDirection: MediaDirection;
}

interface Flags {
  send: boolean;
  recv: boolean;
}

function toFlags(d: MediaDirection): Flags {
  switch (d) {
    case 'sendrecv':
      return { send: true, recv: true };
    case 'sendonly':
      return { send: true, recv: false };
    case 'recvonly':
      return { send: false, recv: true };
    case 'inactive':
      return { send: false, recv: false };
    default:
      return assertNever(d, 'direction');
  }
}

function fromFlags(f: Flags): MediaDirection {
  if (f.send) return f.recv ? 'sendrecv' : 'sendonly';
  return f.recv ? 'recvonly' : 'inactive';
}

/** One local codec with the payload type it gets in our SDP. */
interface Numbered {
  spec: CodecSpec;
  payloadType: number;
}

/** A local offer waiting for its answer. */
interface PendingOffer {
  sdp: SessionDescription;
  audioIndex: number;
  codecs: Numbered[];
  /** telephone-event payload types we offered, by clock rate. */
  telephoneEvents: Map<number, number>;
}

/** A remote offer that was accepted and waits for `createAnswer()`. */
interface PendingAnswer {
  offer: SessionDescription;
  audioIndex: number;
  result: NegotiationResult;
  codecFormat: RtpFormat;
  codecSpec: CodecSpec;
  telephoneEvent?: RtpFormat;
}

/** The m-line layout of the session after an exchange, which re-offers must keep (RFC 3264 §8). */
interface Slot {
  type: string;
  protocol: string;
  formats: string[];
}

const DEFAULT_PROTOCOLS = ['RTP/AVP', 'RTP/AVPF'] as const;
/** Clock rate of telephone-event when nothing else is said (RFC 4733 §7.1.1, `rate` default). */
const TELEPHONE_EVENT_DEFAULT_RATE = 8000;

/**
 * The RFC 3264 offer/answer state machine for one audio stream.
 *
 * ```
 *   idle ──createOffer──▶ local-offer ──setRemoteAnswer──▶ stable
 *   idle ──setRemoteOffer─▶ remote-offer ──createAnswer──▶ stable
 *   stable ──createOffer / setRemoteOffer──▶ local-offer / remote-offer   (re-offers, §8)
 *   local-offer / remote-offer ──rollback──▶ the state before the offer
 * ```
 *
 * @remarks
 * - Our offers carry one audio stream; when answering, the first acceptable audio stream is
 *   taken and every other stream is rejected with port 0 (RFC 3264 §6). Re-offers keep the
 *   session's m-line layout, rejected slots included (§8).
 * - The answer lists one codec (the first of the offerer's list we support, §6.1) plus
 *   telephone-event, so the peer sends exactly what was negotiated.
 * - `o=` version: each SDP we send is compared with the previous one; the version increments
 *   when anything changed and stays the same when nothing did (RFC 3264 §8: "If the version in
 *   the origin line does not increment, the SDP MUST be identical").
 * - A remote offer that cannot be accepted throws {@link NegotiationError} (status 488) from
 *   `setRemoteOffer()` and leaves the state unchanged, so nothing is allocated for it.
 */
export class SdpNegotiator {
  #state: NegotiatorState = 'idle';
  #beforeOffer: NegotiatorState = 'idle';
  #local: LocalMediaOptions;
  readonly #sessionId: string;
  #version: bigint;
  #lastBody: string | undefined;
  #localDescription: SessionDescription | undefined;
  /** Our SDP of the last completed exchange (what a rollback returns to). */
  #lastAgreedLocal: SessionDescription | undefined;
  #remoteDescription: SessionDescription | undefined;
  #result: NegotiationResult | undefined;
  #pendingOffer: PendingOffer | undefined;
  #pendingAnswer: PendingAnswer | undefined;
  #slots: Slot[] = [];
  #audioIndex = 0;
  /** Payload types agreed so far, by codec key: re-offers must not remap them (RFC 3264 §8.3.2). */
  readonly #agreedPayloadTypes = new Map<string, number>();

  /**
   * @throws {TypeError} / {RangeError} for unusable local options (no codecs, bad port, …).
   */
  constructor(local: LocalMediaOptions, options: SdpNegotiatorOptions = {}) {
    this.#local = checkLocal({ ...local });
    const random = options.random ?? new CryptoRandom();
    const sessionId = options.sessionId ?? String(random.int(2 ** 31 - 1) + 1);
    if (!/^\d{1,20}$/.test(sessionId)) throw new TypeError('sessionId must be 1-20 digits');
    this.#sessionId = sessionId;
    this.#version = options.initialVersion ?? BigInt(sessionId);
    if (this.#version < 0n) throw new RangeError('initialVersion must not be negative');
  }

  /** The current offer/answer state. */
  get state(): NegotiatorState {
    return this.#state;
  }

  /** The direction we ask for in our next SDP. */
  get direction(): MediaDirection {
    return this.#local.direction ?? 'sendrecv';
  }

  /** The last SDP we created (pending offer included). */
  get localDescription(): SessionDescription | undefined {
    return this.#localDescription;
  }

  /** The last SDP the peer sent that we accepted. */
  get remoteDescription(): SessionDescription | undefined {
    return this.#remoteDescription;
  }

  /** The outcome of the last completed exchange; `undefined` before the first one. */
  get result(): NegotiationResult | undefined {
    return this.#result;
  }

  /**
   * Sets the direction for the next offer or answer: `sendonly` puts the peer on hold,
   * `sendrecv` resumes (RFC 3264 §8.4). Call `createOffer()` afterwards to re-offer.
   */
  setDirection(direction: MediaDirection): void {
    if (!isDirection(direction)) throw new TypeError(`unknown direction ${String(direction)}`);
    this.#local = { ...this.#local, direction };
  }

  /**
   * Changes local capabilities for the next SDP (e.g. the RTP port once it is allocated after
   * `setRemoteOffer()` accepted the offer).
   *
   * @throws {TypeError} / {RangeError} as the constructor.
   */
  updateLocal(patch: Partial<LocalMediaOptions>): void {
    this.#local = checkLocal({ ...this.#local, ...patch });
  }

  #next(event: NegotiatorEvent): NegotiatorState {
    const row: Partial<Record<NegotiatorEvent, Target>> = TRANSITIONS[this.#state];
    const target = row[event];
    if (target === undefined) {
      throw new SdpStateError(`${event}() is not allowed in state ${this.#state} (RFC 3264 §4)`);
    }
    return target === 'previous' ? this.#beforeOffer : target;
  }

  /**
   * Creates an offer (RFC 3264 §5), or a re-offer in `stable` (§8) with the current local
   * options (hold/resume: {@link setDirection} first).
   *
   * @returns the SDP text, with the configured line ending.
   * @throws {SdpStateError} while another offer is pending.
   */
  createOffer(): string {
    const next = this.#next('createOffer');
    const codecs = this.#numberCodecs();
    const taken = new Set(codecs.map((c) => c.payloadType));
    const telephoneEvents = new Map<number, number>();
    if (this.#local.telephoneEvent === true) {
      // RFC 4733 §2.5.1: one telephone-event per clock rate the audio codecs use, and also the
      // 8000 Hz default when no codec runs at 8000 (Opus alone): peers that know only
      // telephone-event/8000 (baresip 1.0) would otherwise answer without DTMF. The answerer
      // picks the one at its codec's rate when it can (see pickTelephoneEvent).
      for (const rate of new Set([...codecs.map((c) => c.spec.clockRate), TELEPHONE_EVENT_DEFAULT_RATE])) {
        const agreed = this.#agreedPayloadTypes.get(codecKey('telephone-event', rate));
        const wanted = agreed ?? (telephoneEvents.size === 0 ? this.#local.telephoneEventPayloadType ?? 101 : undefined);
        const pt = wanted !== undefined && !taken.has(wanted) ? wanted : freeDynamic(taken);
        taken.add(pt);
        telephoneEvents.set(rate, pt);
      }
    }
    const slot = this.#slots[this.#audioIndex];
    const protocol = slot?.type === 'audio' ? slot.protocol : 'RTP/AVP';
    const audio = this.#audioMedia(
      protocol,
      codecs.map((c) => ({ ...c, name: c.spec.name })),
      [...telephoneEvents].map(([rate, pt]) => ({ payloadType: pt, clockRate: rate })),
      this.direction,
    );
    const media =
      this.#slots.length === 0 ? [audio] : this.#slots.map((s, i) => (i === this.#audioIndex ? audio : rejected(s)));
    const sdp = this.#stamp(this.#session(media));
    this.#pendingOffer = { sdp, audioIndex: this.#slots.length === 0 ? 0 : this.#audioIndex, codecs, telephoneEvents };
    this.#localDescription = sdp;
    this.#beforeOffer = this.#state;
    this.#state = next;
    return formatSdp(sdp, this.#formatOptions());
  }

  /**
   * Applies the peer's answer to our pending offer (RFC 3264 §7) and completes the exchange.
   *
   * @returns the negotiated audio stream.
   * @throws {SdpParseError} for an unparsable answer; {@link NegotiationError} for an answer that
   *   does not fit the offer (m-line count, rejected audio, unknown codec, multicast). In both
   *   cases the state stays `local-offer`: the caller may `rollback()` or end the session.
   * @throws {SdpStateError} without a pending local offer.
   */
  setRemoteAnswer(answer: string | SessionDescription): NegotiationResult {
    const next = this.#next('setRemoteAnswer');
    const pending = this.#pendingOffer!;
    const sdp = typeof answer === 'string' ? parseSdp(answer) : answer;
    // RFC 3264 §6: "The answer MUST contain exactly the same number of "m=" lines as the offer".
    if (sdp.media.length !== pending.sdp.media.length) {
      throw new NegotiationError(
        `answer has ${sdp.media.length} m= lines, the offer had ${pending.sdp.media.length} (RFC 3264 §6)`,
      );
    }
    const offered = pending.sdp.media[pending.audioIndex]!;
    const media = sdp.media[pending.audioIndex]!;
    if (media.type !== offered.type || media.protocol.toUpperCase() !== offered.protocol.toUpperCase()) {
      throw new NegotiationError('answer changed the type or protocol of the audio stream (RFC 3264 §6)');
    }
    if (media.port === 0) throw new NegotiationError('the answer rejected the audio stream (port 0)');
    const remote = this.#remoteStream(sdp, media);
    if (typeof remote === 'string') throw new NegotiationError(remote);

    // RFC 3264 §7: send with a format listed in the answer, preferably the first one.
    const formats = getRtpFormats(media);
    let chosen: { format: RtpFormat; local: Numbered } | undefined;
    for (const format of formats) {
      if (isTelephoneEvent(format.name)) continue;
      const local =
        pending.codecs.find((c) => codecMatches(c.spec, format)) ??
        // An answer without rtpmap for a dynamic type we offered: it uses our mapping (§6.1).
        (format.name === undefined ? pending.codecs.find((c) => c.payloadType === format.payloadType) : undefined);
      if (local !== undefined) {
        chosen = { format, local };
        break;
      }
    }
    if (chosen === undefined) throw new NegotiationError('the answer has no codec we offered (RFC 3264 §6.1)');
    const rate = chosen.local.spec.clockRate;
    // Only a telephone-event we offered counts (§6.1); the peer receives it with its numbering,
    // and sends it to us with ours.
    const te = pickTelephoneEvent(formats, rate);
    const ourTe = te === undefined ? undefined : pending.telephoneEvents.get(te.clockRate ?? rate);
    const result = this.#buildResult(pending.audioIndex, sdp, media, remote, chosen.local.spec, chosen.format, {
      receivePayloadType: chosen.local.payloadType,
      ...(te !== undefined && ourTe !== undefined
        ? { telephoneEvent: { send: te.payloadType, receive: ourTe, clockRate: te.clockRate ?? rate } }
        : {}),
    });

    this.#complete(pending.sdp, sdp, pending.audioIndex, result);
    this.#agree(chosen.local.spec, chosen.local.payloadType, result.receiveTelephoneEventPayloadType, rate);
    this.#pendingOffer = undefined;
    this.#state = next;
    return result;
  }

  /**
   * Checks the peer's offer (RFC 3264 §6) and prepares the answer. The first audio stream with
   * a usable protocol, destination and a common codec is taken; nothing is allocated here.
   *
   * @throws {SdpParseError} (status 488) for an unparsable offer (GUARANTEES G39).
   * @throws {NegotiationError} (status 488) when no stream can be accepted, e.g. no common codec.
   *   In both cases the state is unchanged.
   * @throws {SdpStateError} while our own offer is pending (glare: answer 491, RFC 3261 §14.2).
   */
  setRemoteOffer(offer: string | SessionDescription): void {
    const next = this.#next('setRemoteOffer');
    const sdp = typeof offer === 'string' ? parseSdp(offer) : offer;
    const protocols = (this.#local.protocols ?? DEFAULT_PROTOCOLS).map((p) => p.toUpperCase());
    let reason = 'the offer has no audio stream';
    for (let i = 0; i < sdp.media.length; i++) {
      const media = sdp.media[i]!;
      if (media.type !== 'audio' || media.port === 0) continue;
      if (!protocols.includes(media.protocol.toUpperCase())) {
        reason = `unsupported audio protocol ${media.protocol}`;
        continue;
      }
      const remote = this.#remoteStream(sdp, media);
      if (typeof remote === 'string') {
        reason = remote;
        continue;
      }
      // RFC 3264 §6.1: keep the offerer's order and its payload type numbers.
      const formats = getRtpFormats(media);
      let chosen: { format: RtpFormat; spec: CodecSpec } | undefined;
      for (const format of formats) {
        if (isTelephoneEvent(format.name)) continue;
        const spec = this.#local.codecs.find((c) => codecMatches(c, format));
        if (spec !== undefined) {
          chosen = { format, spec };
          break;
        }
      }
      if (chosen === undefined) {
        reason = 'no common codec';
        continue;
      }
      const te = this.#local.telephoneEvent === true ? pickTelephoneEvent(formats, chosen.spec.clockRate) : undefined;
      // As answerer both directions use the offerer's numbers (RFC 3264 §6.1).
      const result = this.#buildResult(i, sdp, media, remote, chosen.spec, chosen.format, {
        receivePayloadType: chosen.format.payloadType,
        ...(te !== undefined
          ? { telephoneEvent: { send: te.payloadType, receive: te.payloadType, clockRate: te.clockRate ?? chosen.spec.clockRate } }
          : {}),
      });
      this.#pendingAnswer = { offer: sdp, audioIndex: i, result, codecFormat: chosen.format, codecSpec: chosen.spec };
      if (te !== undefined) this.#pendingAnswer.telephoneEvent = te;
      this.#beforeOffer = this.#state;
      this.#state = next;
      return;
    }
    throw new NegotiationError(`${reason} (RFC 3264 §6)`);
  }

  /**
   * Creates the answer to the offer accepted by {@link setRemoteOffer} (RFC 3264 §6) and
   * completes the exchange; the result is then in {@link result}.
   *
   * @returns the SDP text, with the configured line ending.
   * @throws {SdpStateError} without a pending remote offer.
   */
  createAnswer(): string {
    const next = this.#next('createAnswer');
    const pending = this.#pendingAnswer!;
    const { result, codecFormat, codecSpec, telephoneEvent } = pending;
    // RFC 3264 §6.1: the answer's direction is the offerer's mirrored, limited by what we want.
    const local = toFlags(this.direction);
    const remoteFlags = toFlags(result.remoteDirection);
    const direction = fromFlags({ send: local.send && remoteFlags.recv, recv: local.recv && remoteFlags.send });
    const offered = pending.offer.media[pending.audioIndex]!;
    const audio = this.#audioMedia(
      offered.protocol,
      [{ spec: codecSpec, payloadType: codecFormat.payloadType, name: codecFormat.name ?? codecSpec.name }],
      telephoneEvent === undefined
        ? []
        : [
            {
              payloadType: telephoneEvent.payloadType,
              clockRate: telephoneEvent.clockRate ?? codecSpec.clockRate,
              name: telephoneEvent.name,
            },
          ],
      direction,
    );
    const media = pending.offer.media.map((m, i) => (i === pending.audioIndex ? audio : rejected(m)));
    const sdp = this.#stamp(this.#session(media));
    const final: NegotiationResult = { ...result, direction };
    this.#complete(sdp, pending.offer, pending.audioIndex, final);
    this.#agree(codecSpec, codecFormat.payloadType, telephoneEvent?.payloadType, codecSpec.clockRate);
    this.#localDescription = sdp;
    this.#pendingAnswer = undefined;
    this.#state = next;
    return formatSdp(sdp, this.#formatOptions());
  }

  /**
   * Abandons the pending offer, ours or the peer's (RFC 3264 §4: a rejected offer leaves the
   * session as it was, e.g. after a 488 or 491 to a re-INVITE). The `o=` version is not reused.
   *
   * @throws {SdpStateError} when no offer is pending.
   */
  rollback(): void {
    const next = this.#next('rollback');
    if (this.#pendingOffer !== undefined) this.#localDescription = this.#lastAgreedLocal;
    this.#pendingOffer = undefined;
    this.#pendingAnswer = undefined;
    this.#state = next;
  }

  #formatOptions(): { lineEnding: LineEnding } {
    return { lineEnding: this.#local.lineEnding ?? 'crlf' };
  }

  /**
   * Gives every local codec a payload type: the one agreed before (RFC 3264 §8.3.2), else the
   * configured one, else its RFC 3551 static number; codecs left over, or whose wish is taken,
   * get free dynamic numbers afterwards, so a configured number is never stolen.
   */
  #numberCodecs(): Numbered[] {
    const taken = new Set<number>();
    const wished = this.#local.codecs.map((spec) => {
      const channels = spec.channels ?? 1;
      const pt =
        this.#agreedPayloadTypes.get(codecKey(spec.name, spec.clockRate, channels)) ??
        spec.payloadType ??
        staticPayloadType(spec.name, spec.clockRate, channels);
      if (pt === undefined || taken.has(pt)) return undefined;
      taken.add(pt);
      return pt;
    });
    return this.#local.codecs.map((spec, i) => {
      let pt = wished[i];
      if (pt === undefined) {
        pt = freeDynamic(taken);
        taken.add(pt);
      }
      return { spec, payloadType: pt };
    });
  }

  #audioMedia(
    protocol: string,
    codecs: ReadonlyArray<Numbered & { name: string }>,
    telephoneEvents: ReadonlyArray<{ payloadType: number; clockRate: number; name?: string | undefined }>,
    direction: MediaDirection,
  ): MediaDescription {
    const attributes: Attribute[] = [];
    for (const c of codecs) {
      const map = { payloadType: c.payloadType, encodingName: c.name, clockRate: c.spec.clockRate };
      attributes.push({
        name: 'rtpmap',
        // RFC 8866 §6.6: the channel count may be omitted when it is 1.
        value: formatRtpMap(c.spec.channels !== undefined && c.spec.channels !== 1 ? { ...map, channels: c.spec.channels } : map),
      });
      if (c.spec.fmtp !== undefined) {
        attributes.push({ name: 'fmtp', value: formatFmtp({ format: `${c.payloadType}`, parameters: c.spec.fmtp }) });
      }
    }
    for (const te of telephoneEvents) {
      attributes.push({
        name: 'rtpmap',
        value: formatRtpMap({
          payloadType: te.payloadType,
          encodingName: te.name ?? 'telephone-event',
          clockRate: te.clockRate,
        }),
      });
      // RFC 4733 §2.5.1.3/§7.1.1: events 0-15 are the DTMF digits, *, #, A-D.
      attributes.push({ name: 'fmtp', value: formatFmtp({ format: `${te.payloadType}`, parameters: '0-15' }) });
    }
    attributes.push({ name: 'ptime', value: `${this.#local.ptime ?? 20}` });
    if (this.#local.maxPtime !== undefined) attributes.push({ name: 'maxptime', value: `${this.#local.maxPtime}` });
    const rtcpPort = this.#local.rtcpPort;
    if (rtcpPort !== undefined && rtcpPort !== this.#local.port + 1) {
      attributes.push({ name: 'rtcp', value: formatRtcpAttribute({ port: rtcpPort }) }); // RFC 3605 §2.1
    }
    attributes.push({ name: direction }); // always explicit (RFC 3264 §5.1)
    return {
      type: 'audio',
      port: this.#local.port,
      protocol,
      formats: [...codecs.map((c) => `${c.payloadType}`), ...telephoneEvents.map((t) => `${t.payloadType}`)],
      connections: [],
      bandwidths: [],
      attributes,
      unknownLines: [],
    };
  }

  #session(media: MediaDescription[]): SessionDescription {
    const addressType = addressTypeOf(this.#local.address);
    return {
      version: 0,
      origin: {
        username: this.#local.username ?? '-',
        sessionId: this.#sessionId,
        sessionVersion: this.#version,
        netType: 'IN',
        addressType,
        address: this.#local.address,
      },
      sessionName: this.#local.sessionName ?? '-',
      emails: [],
      phones: [],
      connection: { netType: 'IN', addressType, address: this.#local.address },
      bandwidths: [],
      timing: [{ start: '0', stop: '0', repeats: [] }],
      attributes: [],
      media,
      unknownLines: [],
    };
  }

  /** Sets the `o=` version: +1 when the SDP differs from the last one we sent (RFC 3264 §8). */
  #stamp(sdp: SessionDescription): SessionDescription {
    const body = formatSdp({ ...sdp, origin: { ...sdp.origin, sessionVersion: 0n } });
    if (this.#lastBody !== undefined && body !== this.#lastBody) this.#version += 1n;
    this.#lastBody = body;
    return { ...sdp, origin: { ...sdp.origin, sessionVersion: this.#version } };
  }

  /**
   * Where and how the peer's stream is reachable, or a reason string when it cannot be used.
   * RFC 3264 §8.4: `c=0.0.0.0` (old-style hold) means the peer receives nothing.
   */
  #remoteStream(
    sdp: SessionDescription,
    media: MediaDescription,
  ): { address: string; scope: AddressScope; direction: MediaDirection } | string {
    const connection = getConnection(media, sdp);
    if (connection === undefined) return 'the audio stream has no c= line (RFC 8866 §5.7)';
    const scope = addressScope(connection.addressType, connection.address);
    if ((scope === 'multicast' || scope === 'broadcast') && this.#local.allowMulticast !== true) {
      return `refusing ${scope} media destination ${connection.address} (not configured)`;
    }
    const flags = toFlags(getDirection(media, sdp));
    if (scope === 'unspecified') flags.recv = false;
    return { address: connection.address, scope, direction: fromFlags(flags) };
  }

  #buildResult(
    index: number,
    sdp: SessionDescription,
    media: MediaDescription,
    remote: { address: string; scope: AddressScope; direction: MediaDirection },
    spec: CodecSpec,
    format: RtpFormat,
    numbers: { receivePayloadType: number; telephoneEvent?: { send: number; receive: number; clockRate: number } },
  ): NegotiationResult {
    const local = toFlags(this.direction);
    const peer = toFlags(remote.direction);
    const rtcp = getRtcp(media);
    // The peer's ptime is what it wants to receive (RFC 8866 §6.4); maxptime caps ours.
    const maxPtime = getMaxPtime(media, sdp);
    let ptime = getPtime(media, sdp) ?? this.#local.ptime ?? 20;
    if (maxPtime !== undefined && ptime > maxPtime) ptime = maxPtime;
    const codec: NegotiatedCodec = {
      payloadType: format.payloadType,
      name: spec.name,
      clockRate: spec.clockRate,
      channels: spec.channels ?? 1,
    };
    if (format.fmtp !== undefined) codec.fmtp = format.fmtp;
    const result: NegotiationResult = {
      mediaIndex: index,
      remoteAddress: remote.address,
      remoteAddressScope: remote.scope,
      remotePort: media.port,
      remoteRtcpPort: rtcp?.port ?? Math.min(media.port + 1, 65535),
      remoteRtcpAddress: rtcp?.connection?.address ?? remote.address,
      codec,
      receivePayloadType: numbers.receivePayloadType,
      ptime,
      direction: fromFlags({ send: local.send && peer.recv, recv: local.recv && peer.send }),
      remoteDirection: remote.direction,
    };
    if (numbers.telephoneEvent !== undefined) {
      result.telephoneEventPayloadType = numbers.telephoneEvent.send;
      result.receiveTelephoneEventPayloadType = numbers.telephoneEvent.receive;
      result.telephoneEventClockRate = numbers.telephoneEvent.clockRate;
    }
    return result;
  }

  #complete(local: SessionDescription, remote: SessionDescription, audioIndex: number, result: NegotiationResult): void {
    this.#slots = local.media.map((m) => ({ type: m.type, protocol: m.protocol, formats: [...m.formats] }));
    this.#audioIndex = audioIndex;
    this.#localDescription = local;
    this.#lastAgreedLocal = local;
    this.#remoteDescription = remote;
    this.#result = result;
  }

  #agree(spec: CodecSpec, payloadType: number, telephoneEvent: number | undefined, rate: number): void {
    this.#agreedPayloadTypes.set(codecKey(spec.name, spec.clockRate, spec.channels ?? 1), payloadType);
    if (telephoneEvent !== undefined) this.#agreedPayloadTypes.set(codecKey('telephone-event', rate), telephoneEvent);
  }
}

/** A rejected stream in an answer or re-offer: same type, protocol and formats, port 0 (RFC 3264 §6, §8.2). */
function rejected(m: Pick<MediaDescription, 'type' | 'protocol' | 'formats'>): MediaDescription {
  return {
    type: m.type,
    port: 0,
    protocol: m.protocol,
    formats: [...m.formats],
    connections: [],
    bandwidths: [],
    attributes: [],
    unknownLines: [],
  };
}

function freeDynamic(taken: Set<number>): number {
  for (let pt = DYNAMIC_PAYLOAD_TYPE_MIN; pt <= 127; pt++) if (!taken.has(pt)) return pt;
  throw new RangeError('no free dynamic payload type');
}

/** The telephone-event format at `clockRate` (RFC 4733 §2.5.1.2), else the first one. */
function pickTelephoneEvent(formats: readonly RtpFormat[], clockRate: number): RtpFormat | undefined {
  const events = formats.filter((f) => isTelephoneEvent(f.name));
  return events.find((f) => f.clockRate === clockRate) ?? events[0];
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`${what} must be 1-65535, got ${port}`);
}

function checkLocal(local: LocalMediaOptions): LocalMediaOptions {
  if (typeof local.address !== 'string' || !isValidAddress(addressTypeOf(local.address), local.address)) {
    throw new TypeError(`bad local media address ${String(local.address)}`);
  }
  checkPort(local.port, 'port');
  if (local.rtcpPort !== undefined) checkPort(local.rtcpPort, 'rtcpPort');
  if (!Array.isArray(local.codecs) || local.codecs.length === 0) throw new TypeError('at least one codec is needed');
  const pts = new Set<number>();
  for (const c of local.codecs) {
    if (typeof c.name !== 'string' || !/^[^\s/]+$/.test(c.name)) throw new TypeError(`bad codec name ${String(c.name)}`);
    if (isTelephoneEvent(c.name)) throw new TypeError('use the telephoneEvent option, not a telephone-event codec');
    if (!Number.isInteger(c.clockRate) || c.clockRate <= 0) throw new RangeError(`bad clock rate for ${c.name}`);
    if (c.payloadType !== undefined) {
      if (!Number.isInteger(c.payloadType) || c.payloadType < 0 || c.payloadType > 127) {
        throw new RangeError(`payload type of ${c.name} must be 0-127`);
      }
      if (pts.has(c.payloadType)) throw new RangeError(`payload type ${c.payloadType} used twice`);
      pts.add(c.payloadType);
    }
    if (c.fmtp !== undefined && /[\r\n]/.test(c.fmtp)) throw new TypeError(`fmtp of ${c.name} contains CR/LF`);
  }
  const te = local.telephoneEventPayloadType;
  if (te !== undefined && (!Number.isInteger(te) || te < DYNAMIC_PAYLOAD_TYPE_MIN || te > 127)) {
    throw new RangeError('telephoneEventPayloadType must be 96-127');
  }
  for (const [name, v] of [['ptime', local.ptime], ['maxPtime', local.maxPtime]] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new RangeError(`${name} must be positive`);
  }
  if (local.direction !== undefined && !isDirection(local.direction)) throw new TypeError('bad direction');
  // RFC 8866 §5.2: the o= username is a non-whitespace string; s= is text without line breaks.
  if (local.username !== undefined && !/^\S+$/.test(local.username)) {
    throw new TypeError('username must be non-empty, without spaces');
  }
  if (local.sessionName !== undefined && !/^[^\r\n\0]+$/.test(local.sessionName)) {
    throw new TypeError('sessionName must be non-empty, without line breaks');
  }
  return local;
}

/**
 * One RTP audio session (RFC 3550): a paced sender, a receiver with a jitter buffer and loss
 * concealment, RFC 4733 DTMF both ways, RTCP reports at the RFC 3550 interval, and live call
 * statistics with an E-model MOS.
 *
 * ```
 *            source(out) ──► encode ──► RTP ──► transport.sendRtp ───►  (network)
 *  FramePacer ┤ every ptime (20 ms), against absolute time
 *            onFrame(pcm) ◄── decode/conceal ◄── JitterBuffer.pop ◄── transport onRtp
 *  RTCP timer ─► SR|RR + SDES(CNAME) [+ BYE]        RR/SR in ─► RTT, remote loss/jitter
 * ```
 *
 * The session imports only `core/` and the rest of `rtp/`: codecs come in through the small
 * {@link RtpSessionCodec} interface (which `media/`'s `Codec` satisfies), and the network through
 * {@link RtpTransport} (an `RtpSocket`, or an in-memory pair in tests).
 *
 * Timing: the pacer ({@link FramePacer}) ticks at `start + n × ptime`; each tick plays out what
 * the jitter buffer has due, then sends one frame. See `pacer.ts` for the catch-up/skip policy: a
 * skipped tick sends nothing, and the next packet carries the timestamp of its own tick (the
 * gap is visible to the receiver as time, not as loss) with the marker bit set.
 */
import { SystemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { VoxliteError } from '../core/errors.js';
import { TypedEmitter } from '../core/events.js';
import { silentLogger, type Logger } from '../core/log.js';
import { CryptoRandom, randomToken, type Random } from '../core/random.js';
import { writeU16, writeU32 } from './bytes.js';
import { DtmfReceiver, DtmfSender, type DtmfPacket } from './dtmf.js';
import { CODEC_IMPAIRMENTS, computeEModel, type CodecImpairment, type EModelResult } from './emodel.js';
import { rtcpInterval, updateAvgRtcpSize } from './interval.js';
import { JitterBuffer, type JitterBufferLossReason, type JitterBufferStats } from './jitter-buffer.js';
import { RTP_HEADER_SIZE, type RtpPacket } from './packet.js';
import { FramePacer, type PacerStats, type PacerTick } from './pacer.js';
import { SdesItemType, findCname, serializeRtcp, type ReportBlock, type RtcpPacket } from './rtcp.js';
import { RtpReceiverStats, RtpSenderStats, msToNtpMiddle32, roundTripTimeMs } from './stats.js';
import type { RtpTransport } from './transport.js';

/** An encoder as the session needs it (`media/`'s `CodecEncoder` fits). */
export interface RtpCodecEncoder {
  /** Encodes one frame of PCM into `out` (or a fresh array) and returns the payload. */
  encode(pcm: Int16Array, out?: Uint8Array): Uint8Array;
  /** Forgets inter-frame state. */
  reset?(): void;
  /** Frees what the encoder holds outside the JavaScript heap (Opus); called when the session closes. */
  close?(): void;
}

/** A decoder as the session needs it (`media/`'s `CodecDecoder` fits). */
export interface RtpCodecDecoder {
  /** Decodes one payload into `out` (or a fresh array) and returns the samples. */
  decode(payload: Uint8Array, out?: Int16Array): Int16Array;
  /**
   * Makes up one lost frame from the decoder's own state (Opus's packet loss concealment);
   * without it the session repeats and fades the last frame.
   */
  conceal?(out?: Int16Array): Int16Array;
  /** Forgets inter-frame state. */
  reset?(): void;
  /** Frees what the decoder holds outside the JavaScript heap (Opus); called when the session closes. */
  close?(): void;
}

/** The codec of a session (`media/`'s `Codec`, e.g. `getCodec('PCMU')`, fits). */
export interface RtpSessionCodec {
  /** Encoding name, for reports. */
  readonly name: string;
  /** RTP timestamp rate in Hz (8000 for G.711 and G.722). */
  readonly clockRate: number;
  /** PCM rate of the encoder input and decoder output in Hz (16000 for G.722). */
  readonly sampleRate: number;
  /** Static payload type, used when {@link RtpSessionOptions.payloadType} is not given. */
  readonly payloadType?: number;
  /** Makes the encoder of the outgoing stream. */
  createEncoder(): RtpCodecEncoder;
  /** Makes the decoder of the incoming stream. */
  createDecoder(): RtpCodecDecoder;
}

/** Something that finds DTMF tones in decoded audio (`media/`'s `DtmfDetector` fits). */
export interface InbandDtmfDetector {
  /** Analyses the next samples; returns the keys detected in them (usually `''`). */
  process(pcm: Int16Array): string;
}

/** How a lost frame is concealed. */
export type ConcealmentMode =
  /** Repeat the last good frame, fading (×0.8, ×0.5, ×0.25) and then silence from the 4th loss in a row. */
  | 'fade'
  /** Play silence. */
  | 'silence';

/** Options of {@link RtpSession}. Defaults are in the field comments. */
export interface RtpSessionOptions {
  /** Where packets go and come from. */
  transport: RtpTransport;
  /** The negotiated codec. */
  codec: RtpSessionCodec;
  /** Negotiated payload type (SDP `m=`/`a=rtpmap`); default `codec.payloadType`. */
  payloadType?: number;
  /** Packetisation time in ms (SDP `a=ptime`); default 20. */
  ptimeMs?: number;
  /** Negotiated RFC 4733 `telephone-event` payload type; without it DTMF is not sent or received as events. */
  dtmfPayloadType?: number;
  /** Clock rate of telephone-event (its `a=rtpmap` rate); default `codec.clockRate`. */
  dtmfClockRate?: number;
  /** Tone timing of {@link sendDtmf}: duration per digit (default 100 ms), gap (50 ms), volume (10). */
  dtmf?: { durationMs?: number; gapMs?: number; volume?: number };
  /**
   * Pulls the next outgoing frame: fill `out` (`codec.sampleRate × ptime` samples) and return it,
   * or return another array of that length, or `null` to send nothing this tick (silence
   * suppression, or end of the source). Without a source the session only receives.
   */
  source?: (out: Int16Array) => Int16Array | null;
  /**
   * Receives played-out audio, one frame per playout step, concealment included. `pcm` and `info`
   * are reused after the call returns: copy what you keep.
   */
  onFrame?: (pcm: Int16Array, info: RtpFrameInfo) => void;
  /** Called for each received DTMF digit (RFC 4733 events and, with `inbandDtmf`, detected tones). */
  onDtmf?: (digit: string, event: RtpDtmfEvent) => void;
  /** Optional in-band detector run on the played-out audio. */
  inbandDtmf?: InbandDtmfDetector;
  /** Concealment of lost frames; default `'fade'`. */
  concealment?: ConcealmentMode;
  /**
   * Jitter buffer tuning (see `JitterBufferOptions`): delays in ms and ring capacity. Defaults:
   * minimum and initial delay 40 ms, maximum 200 ms, 64 packets. The minimum is above the
   * buffer's own default (20 ms) because playout runs on the 20 ms pacer tick, which adds up to a
   * frame of waiting: with a 20 ms target the buffer's first adaptation step would cut a frame
   * of speech out of a perfectly clean stream.
   */
  jitterBuffer?: { minDelayMs?: number; maxDelayMs?: number; initialDelayMs?: number; capacity?: number };
  /** Pacer tuning: catch-up limit (default 3 ticks) and lateness threshold (default 5 ms). */
  pacer?: { maxCatchUpTicks?: number; lateThresholdMs?: number };
  /**
   * Session bandwidth in bit/s for the RTCP interval (RFC 3550 §6.2, SDP `b=AS`); default 80 000
   * (G.711 at 20 ms with RTP/UDP/IPv4 headers).
   */
  sessionBandwidth?: number;
  /** Minimum RTCP interval in ms (RFC 3550 §6.2 recommends 5000, halved before the first report); default 5000. */
  rtcpMinIntervalMs?: number;
  /** SDES CNAME; default a random 16-character token (RFC 7022 §4.2 short-term persistent). */
  cname?: string;
  /** Remote SSRCs tracked at most (G40); default 4. */
  maxRemoteSources?: number;
  /** E-model codec impairment; default G.711 with PLC for `'fade'`, without for `'silence'`. */
  emodelCodec?: CodecImpairment;
  /** Close the transport on {@link RtpSession.close}; default `true`. */
  closeTransport?: boolean;
  /**
   * Clock for pacing, jitter and RTCP; default a {@link SystemClock} shared by all sessions.
   * Sessions on the same clock object share one pacing timer.
   */
  clock?: Clock;
  /** Randomness for SSRC, sequence, timestamp, CNAME and the RTCP interval; default {@link CryptoRandom}. */
  random?: Random;
  /** Unix time in ms, read once at construction for the NTP timestamps of SRs; default `Date.now`. */
  wallClock?: () => number;
  /** Logger; default silent. */
  logger?: Logger;
}

/** About one frame passed to {@link RtpSessionOptions.onFrame}. */
export interface RtpFrameInfo {
  /** SSRC of the stream played. */
  ssrc: number;
  /** RTP timestamp of the frame (for a concealed frame, where it would have been). */
  timestamp: number;
  /** RTP sequence number (of the missing packet, for a concealed frame). */
  sequenceNumber: number;
  /** Whether the audio was made up rather than decoded. */
  concealed: boolean;
  /** Why it was concealed (jitter buffer reason), or `undefined` for a decoded frame. */
  lossReason: JitterBufferLossReason | undefined;
}

/** A received DTMF digit. */
export interface RtpDtmfEvent {
  digit: string;
  /** `rfc4733`: a telephone-event; `inband`: tones found by the in-band detector. */
  source: 'rfc4733' | 'inband';
  /** SSRC it came from. */
  ssrc: number | undefined;
  /** RTP timestamp of the event start (RFC 4733) or of the frame it was detected in. */
  timestamp: number;
}

/** Why the session dropped a valid RTP packet (G41). */
export type RtpSessionDropReason =
  /** A payload type that was not negotiated. */
  | 'payload-type'
  /** A new SSRC while {@link RtpSessionOptions.maxRemoteSources} are tracked (G40). */
  | 'ssrc-limit'
  /**
   * Our own SSRC with a sequence number or timestamp we did not send: another source chose our
   * SSRC (a collision, RFC 3550 §8.2). Our own packets reflected back are not dropped: see
   * {@link RtpReceiveStats.echoed}.
   */
  | 'own-ssrc'
  /** A payload the decoder rejected (concealed instead). */
  | 'bad-payload'
  /** A source other than the one playing (kept in statistics, not played). */
  | 'not-playing';

/** What the peer's RTCP reception reports say about our stream (RFC 3550 §6.4.1). */
export interface RemoteReceptionReport {
  /** Reports received. */
  reports: number;
  /** Fraction lost in the peer's last interval, 0–1. */
  fractionLost: number;
  /** Cumulative packets lost, as reported. */
  cumulativeLost: number;
  /** `cumulativeLost` over the packets expected up to the reported highest sequence number, in percent. */
  lossPercent: number;
  /** Interarrival jitter the peer measured, in ms. */
  jitterMs: number;
  /** Extended highest sequence number the peer received. */
  highestSequence: number;
}

/** Send-direction statistics. */
export interface RtpSendStats {
  /** Our current SSRC. */
  ssrc: number;
  /** RTP data packets sent (audio and telephone-events; what an SR counts). */
  packets: number;
  /** Payload octets sent. */
  octets: number;
  /** … of which audio packets. */
  audioPackets: number;
  /** … of which telephone-event packets. */
  dtmfPackets: number;
  /** The peer's view of our stream, from its RTCP; `undefined` before the first report. */
  remote: RemoteReceptionReport | undefined;
}

/** Receive-direction statistics, over every remote source (loss and jitter of the playing one). */
export interface RtpReceiveStats {
  /** SSRC being played, if any. */
  ssrc: number | undefined;
  /** RTP data packets accepted. */
  packets: number;
  /** Payload octets accepted. */
  octets: number;
  /** Packets expected (RFC 3550 A.3), summed over sources. */
  expected: number;
  /** Cumulative packets lost (A.3), summed over sources; negative when duplicates outnumber losses. */
  lost: number;
  /** `lost / expected` in percent. */
  lossPercent: number;
  /** Fraction lost in the interval closed by our last report block, 0–1. */
  fractionLost: number;
  /** Interarrival jitter of the playing source (RFC 3550 A.8), in ms. */
  jitterMs: number;
  /** Telephone-event packets received. */
  dtmfPackets: number;
  /**
   * Packets of our own stream that came back unchanged (our SSRC, and a sequence number and
   * timestamp we sent recently): an RTP echo server (e.g. `sipp -rtp_echo`) or a loop. RFC 3550
   * §8.2 would discard them as a loop; we count them here and play them like any remote source,
   * so that an echo test works. Also counted in `packets`/`dtmfPackets`.
   */
  echoed: number;
  /** Jitter buffer counters. */
  jitterBuffer: JitterBufferStats & { delayMs: number; targetDelayMs: number };
}

/** Round-trip time from RTCP LSR/DLSR (RFC 3550 §6.4.1). */
export interface RttStats {
  /** Smoothed RTT (EWMA, gain 1/8) in ms; `undefined` until measured. */
  ms: number | undefined;
  /** Latest sample in ms. */
  lastMs: number | undefined;
  /** Samples taken. */
  samples: number;
}

/** Live statistics ({@link RtpSession.stats}) and the final report ({@link RtpSession.close}). */
export interface RtpSessionStats {
  /** SDES CNAME. */
  cname: string;
  /** Codec name. */
  codec: string;
  /** Negotiated payload type. */
  payloadType: number;
  /** ms since {@link RtpSession.start} (0 if not started). */
  durationMs: number;
  /** Whether the session is closed (the final report). */
  closed: boolean;
  send: RtpSendStats;
  receive: RtpReceiveStats;
  rtt: RttStats;
  /**
   * E-model estimate (ITU-T G.107, simplified) of what we hear: loss = network loss plus packets
   * the jitter buffer discarded as late, delay = RTT/2 + jitter buffer + ptime. `undefined` until
   * something was received.
   */
  quality: EModelResult | undefined;
  /** RTCP compounds sent and received, and the RFC 3550 §6.3.3 average size. */
  rtcp: { sent: number; received: number; avgSizeOctets: number };
  /** Pacer counters (ticks, late ticks, catch-up, skipped). */
  pacer: PacerStats;
  /** Valid packets the session dropped, by reason. */
  drops: Record<RtpSessionDropReason, number>;
  /** Per remote source (bounded by `maxRemoteSources`). */
  sources: RemoteSourceStats[];
}

/** Statistics of one remote SSRC. */
export interface RemoteSourceStats {
  ssrc: number;
  cname: string | undefined;
  packets: number;
  expected: number;
  lost: number;
  jitterMs: number;
  /** Whether it sent an RTCP BYE. */
  left: boolean;
}

/** Events of an {@link RtpSession}. */
// A type alias (not an interface) so it satisfies the emitter's index-signature constraint.
export type RtpSessionEvents = {
  /** A DTMF digit arrived. */
  dtmf: RtpDtmfEvent;
  /** An RTCP compound arrived (after the session processed it). */
  rtcp: { packets: RtcpPacket[] };
  /** A remote source sent BYE (RFC 3550 §6.6). */
  bye: { ssrc: number; reason: string | undefined };
  /** Playout switched to a (new) remote SSRC. */
  remoteSource: { ssrc: number };
  /** The session closed; the payload is the final report. */
  close: RtpSessionStats;
};

/** Error codes of {@link RtpSessionError}. */
export type RtpSessionErrorCode =
  /** The session is closed (e.g. pending DTMF when closing). */
  | 'RTP_ERR_CLOSED'
  /** `sendDtmf` without a negotiated telephone-event payload type. */
  | 'RTP_ERR_NO_TELEPHONE_EVENT'
  /** `sendDtmf` aborted through its signal. */
  | 'RTP_ERR_ABORTED';

/** A session-level failure with a stable code. */
export class RtpSessionError extends VoxliteError {
  constructor(
    readonly code: RtpSessionErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface RemoteSource {
  readonly ssrc: number;
  readonly stats: RtpReceiverStats;
  packets: number;
  octets: number;
  dtmfPackets: number;
  lastMs: number;
  cname: string | undefined;
  left: boolean;
}

interface DtmfJob {
  readonly digits: string;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
  startIndex: number;
  plan: DtmfPacket[];
  next: number;
}

const TWO_POW_32 = 0x1_0000_0000;
const MAX_PTIME_FRAMES = 6;
/** One clock for every session that is not given one, so their pacers share one scheduler (pacer.ts). */
const DEFAULT_CLOCK: Clock = new SystemClock();
/** Recently sent packets remembered to recognise our own stream coming back (a power of two). */
const ECHO_WINDOW = 512;

/**
 * An RTP audio session; see the module comment.
 *
 * @example
 * ```ts
 * const socket = await RtpSocket.open({ address: '127.0.0.1', remote });
 * const session = new RtpSession({
 *   transport: socket,
 *   codec: getCodec('PCMU'),
 *   dtmfPayloadType: 101,
 *   source: (out) => tone.generate(out.length, out),
 *   onFrame: (pcm) => wav.write(pcm),
 * });
 * session.start();
 * await session.sendDtmf('123#');
 * const report = session.close(); // sends RTCP BYE
 * ```
 */
export class RtpSession extends TypedEmitter<RtpSessionEvents> {
  /** Negotiated payload type of the audio. */
  readonly payloadType: number;
  /** Packetisation time in ms. */
  readonly ptimeMs: number;
  /** SDES CNAME. */
  readonly cname: string;
  /** PCM samples per frame (at `codec.sampleRate`). */
  readonly frameSamples: number;

  private readonly transport: RtpTransport;
  private readonly codec: RtpSessionCodec;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly encoder: RtpCodecEncoder;
  private readonly decoder: RtpCodecDecoder;
  private readonly tsIncrement: number;
  private readonly dtmfPt: number | undefined;
  private readonly dtmfSender: DtmfSender | undefined;
  private readonly dtmfReceiver: DtmfReceiver;
  private readonly source: ((out: Int16Array) => Int16Array | null) | undefined;
  private readonly onFrame: ((pcm: Int16Array, info: RtpFrameInfo) => void) | undefined;
  private readonly inband: InbandDtmfDetector | undefined;
  private readonly concealment: ConcealmentMode;
  private readonly emodelCodec: CodecImpairment;
  private readonly sessionBandwidth: number;
  private readonly rtcpMinIntervalMs: number;
  private readonly maxSources: number;
  private readonly closeTransport: boolean;
  private readonly pacer: FramePacer;
  private readonly jb: JitterBuffer;
  private readonly wallStart: number;
  private readonly clockStart: number;

  // Send state.
  private ssrcValue: number;
  private seq: number;
  private tsBase: number;
  private initialSeq: number;
  private senderStats: RtpSenderStats;
  private markerNext = true;
  private sentPackets = 0;
  private sentOctets = 0;
  private sentAudio = 0;
  private sentDtmf = 0;
  private readonly pcmIn: Int16Array;
  private readonly encodeScratch: Uint8Array;
  private encodeOut: Uint8Array;
  private dtmfJob: DtmfJob | undefined;
  private readonly dtmfQueue: DtmfJob[] = [];
  private lastCollisionMs = Number.NEGATIVE_INFINITY;
  // Sequence number (-1: none), timestamp and SSRC of recent packets, by `seq % ECHO_WINDOW`.
  private readonly echoSeq = new Int32Array(ECHO_WINDOW).fill(-1);
  private readonly echoTimestamp = new Uint32Array(ECHO_WINDOW);
  private readonly echoSsrc = new Uint32Array(ECHO_WINDOW);
  private echoed = 0;

  // Receive state.
  private readonly sources = new Map<number, RemoteSource>();
  private active: RemoteSource | undefined;
  private readonly pcmA: Int16Array;
  private readonly pcmB: Int16Array;
  private pcmAView: Int16Array;
  private pcmBView: Int16Array;
  private readonly pcmConcealed: Int16Array;
  private lastGood: Int16Array | undefined;
  private lastGoodLength = 0;
  private lossRun = 0;
  private useA = true;
  private readonly frameInfo: RtpFrameInfo = {
    ssrc: 0,
    timestamp: 0,
    sequenceNumber: 0,
    concealed: false,
    lossReason: undefined,
  };
  private readonly drops: Record<RtpSessionDropReason, number> = {
    'payload-type': 0,
    'ssrc-limit': 0,
    'own-ssrc': 0,
    'bad-payload': 0,
    'not-playing': 0,
  };

  // RTCP state.
  private rtcpTimer: TimerHandle | undefined;
  private avgRtcpSize: number;
  private rtcpSent = 0;
  private rtcpReceived = 0;
  private lastReportMs = Number.NEGATIVE_INFINITY;
  private prevReportMs = Number.NEGATIVE_INFINITY;
  private remoteReport: RemoteReceptionReport | undefined;
  private readonly rtt: RttStats = { ms: undefined, lastMs: undefined, samples: 0 };

  private started = false;
  private startedAtMs = 0;
  private finalReport: RtpSessionStats | undefined;

  /** @throws RangeError on inconsistent options (no payload type, ptime not a whole number of samples, …). */
  constructor(options: RtpSessionOptions) {
    const logger = options.logger ?? silentLogger;
    super((error, event) =>
      logger.warn('rtp session listener threw', { event, error: error instanceof Error ? error.message : String(error) }),
    );
    this.logger = logger;
    this.transport = options.transport;
    this.codec = options.codec;
    this.clock = options.clock ?? DEFAULT_CLOCK;
    this.random = options.random ?? new CryptoRandom();
    const pt = options.payloadType ?? options.codec.payloadType;
    if (pt === undefined || !Number.isInteger(pt) || pt < 0 || pt > 127) {
      throw new RangeError(`a payload type 0..127 is needed, got ${String(pt)}`);
    }
    this.payloadType = pt;
    this.ptimeMs = options.ptimeMs ?? 20;
    this.frameSamples = (options.codec.sampleRate * this.ptimeMs) / 1000;
    this.tsIncrement = (options.codec.clockRate * this.ptimeMs) / 1000;
    if (!Number.isInteger(this.frameSamples) || !Number.isInteger(this.tsIncrement) || this.frameSamples <= 0) {
      throw new RangeError(`ptime ${this.ptimeMs} ms is not a whole number of samples of ${options.codec.name}`);
    }
    if (options.dtmfPayloadType !== undefined) {
      const dpt = options.dtmfPayloadType;
      if (!Number.isInteger(dpt) || dpt < 0 || dpt > 127 || dpt === pt) {
        throw new RangeError(`bad telephone-event payload type ${dpt}`);
      }
      this.dtmfPt = dpt;
      this.dtmfSender = new DtmfSender({
        clockRate: options.dtmfClockRate ?? options.codec.clockRate,
        // RFC 4733 §2.5.1.2: updates at the audio packetisation interval, so they ride the pacer.
        intervalMs: this.ptimeMs,
        durationMs: options.dtmf?.durationMs ?? 100,
        gapMs: options.dtmf?.gapMs ?? 50,
        volume: options.dtmf?.volume ?? 10,
      });
    }
    this.dtmfReceiver = new DtmfReceiver({ clockRate: options.dtmfClockRate ?? options.codec.clockRate });
    this.source = options.source;
    this.onFrame = options.onFrame;
    this.inband = options.inbandDtmf;
    this.concealment = options.concealment ?? 'fade';
    this.emodelCodec =
      options.emodelCodec ?? (this.concealment === 'fade' ? CODEC_IMPAIRMENTS.g711Plc : CODEC_IMPAIRMENTS.g711);
    this.sessionBandwidth = options.sessionBandwidth ?? 80_000;
    this.rtcpMinIntervalMs = options.rtcpMinIntervalMs ?? 5000;
    if (!(this.sessionBandwidth > 0) || !(this.rtcpMinIntervalMs > 0)) {
      throw new RangeError('sessionBandwidth and rtcpMinIntervalMs must be positive');
    }
    this.maxSources = options.maxRemoteSources ?? 4;
    if (!Number.isInteger(this.maxSources) || this.maxSources < 1) throw new RangeError('maxRemoteSources must be >= 1');
    this.closeTransport = options.closeTransport ?? true;
    this.encoder = options.codec.createEncoder();
    this.decoder = options.codec.createDecoder();
    this.cname = options.cname ?? randomToken(this.random, 16);
    if (options.onDtmf !== undefined) {
      const onDtmf = options.onDtmf;
      this.on('dtmf', (event) => onDtmf(event.digit, event));
    }

    // RFC 3550 §5.1: SSRC, initial sequence number and timestamp are random.
    this.ssrcValue = this.random.int(TWO_POW_32);
    this.seq = this.random.int(0x10000);
    this.initialSeq = this.seq;
    this.tsBase = this.random.int(TWO_POW_32);
    this.senderStats = new RtpSenderStats(this.ssrcValue, options.codec.clockRate);

    this.pcmIn = new Int16Array(this.frameSamples);
    // Upper bound of one encoded frame: 16-bit PCM itself (G.711 is 1 octet/sample, G.722 ½).
    this.encodeScratch = new Uint8Array(this.frameSamples * 2);
    this.encodeOut = this.encodeScratch;
    const capacity = this.frameSamples * MAX_PTIME_FRAMES;
    this.pcmA = new Int16Array(capacity);
    this.pcmB = new Int16Array(capacity);
    this.pcmAView = this.pcmA.subarray(0, this.frameSamples);
    this.pcmBView = this.pcmB.subarray(0, this.frameSamples);
    this.pcmConcealed = new Int16Array(capacity);

    this.jb = new JitterBuffer({
      clock: this.clock,
      clockRate: options.codec.clockRate,
      ptimeMs: this.ptimeMs,
      minDelayMs: 40,
      initialDelayMs: 40,
      ...definedOnly(options.jitterBuffer ?? {}),
    });
    this.pacer = new FramePacer({
      clock: this.clock,
      periodMs: this.ptimeMs,
      onTick: (tick) => this.onTick(tick),
      ...definedOnly(options.pacer ?? {}),
    });
    // RFC 3550 §6.3.2: initialise avg_rtcp_size to the probable size of the first compound.
    this.avgRtcpSize = 100 + this.transport.headerOverhead;
    this.clockStart = this.clock.now();
    this.wallStart = (options.wallClock ?? Date.now)();
  }

  /** Our current SSRC (changes only on a collision, RFC 3550 §8.2). */
  get ssrc(): number {
    return this.ssrcValue;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.finalReport !== undefined;
  }

  /**
   * Starts receiving, pacing and RTCP. Tick 0 runs at once. Idempotent.
   *
   * @throws {@link RtpSessionError} `RTP_ERR_CLOSED` after {@link close}.
   */
  start(): void {
    if (this.finalReport !== undefined) throw new RtpSessionError('RTP_ERR_CLOSED', 'the RTP session is closed');
    if (this.started) return;
    this.started = true;
    this.startedAtMs = this.clock.now();
    this.transport.attach({
      onRtp: (packet) => this.onRtp(packet),
      onRtcp: (packets, byteLength) => this.onRtcp(packets, byteLength),
    });
    this.scheduleRtcp(true);
    this.pacer.start(this.startedAtMs);
  }

  /**
   * Sends DTMF digits as RFC 4733 telephone-events, one after the other, starting at the next
   * tick. Audio is muted from the first event packet to the last one (the source is still pulled,
   * so it stays in real time, but its frames are discarded), so that the receiver does not get
   * the tone twice, in-band and as an event. Calls queue up behind each other.
   *
   * @param digits - `0-9`, `*`, `#`, `A-D`.
   * @param options.signal - aborts the remaining packets (rejects with `RTP_ERR_ABORTED`).
   * @returns resolves once the last packet (the third end packet of the last digit) was sent.
   * Rejects with {@link RtpSessionError} `RTP_ERR_NO_TELEPHONE_EVENT` when no telephone-event
   * payload type was negotiated, `RTP_ERR_CLOSED` when the session closes first, or a RangeError
   * for a character that is not a DTMF digit.
   */
  sendDtmf(digits: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.finalReport !== undefined) {
      return Promise.reject(new RtpSessionError('RTP_ERR_CLOSED', 'the RTP session is closed'));
    }
    const sender = this.dtmfSender;
    if (sender === undefined) {
      return Promise.reject(new RtpSessionError('RTP_ERR_NO_TELEPHONE_EVENT', 'no telephone-event payload type negotiated'));
    }
    try {
      sender.plan(digits, 0); // validates the digits now rather than at the tick
    } catch (error) {
      return Promise.reject(error);
    }
    if (digits.length === 0) return Promise.resolve();
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(new RtpSessionError('RTP_ERR_ABORTED', 'DTMF aborted'));
    return new Promise<void>((resolve, reject) => {
      const job: DtmfJob = {
        digits,
        resolve,
        reject,
        signal,
        onAbort: () => this.abortDtmf(job),
        startIndex: -1,
        plan: [],
        next: 0,
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      if (this.dtmfJob === undefined) this.dtmfJob = job;
      else this.dtmfQueue.push(job);
    });
  }

  /** The pacer's counters (a live read-only view; cheaper than {@link stats} for frequent polling). */
  get pacerStats(): Readonly<PacerStats> {
    return this.pacer.stats;
  }

  /** Live statistics (a fresh object). */
  stats(): RtpSessionStats {
    if (this.finalReport !== undefined) return this.finalReport;
    return this.buildStats(false);
  }

  /**
   * Stops the session: sends a final RTCP compound with BYE (RFC 3550 §6.6; only if we ever sent
   * RTP or RTCP, §6.3.7), rejects pending DTMF, detaches from (and by default closes) the
   * transport, emits `close`. Idempotent: later calls return the same report.
   *
   * @param reason - BYE reason text (at most 255 octets of UTF-8).
   * @returns the final report.
   */
  close(reason?: string): RtpSessionStats {
    if (this.finalReport !== undefined) return this.finalReport;
    this.pacer.stop();
    this.rtcpTimer?.cancel();
    this.rtcpTimer = undefined;
    if (this.started && (this.sentPackets > 0 || this.rtcpSent > 0)) {
      try {
        this.sendRtcpReport(this.ssrcValue, reason === undefined ? true : truncateUtf8(reason, 255));
      } catch (error) {
        this.logger.debug('rtcp bye failed', { error: error instanceof Error ? error.message : String(error) });
      }
    }
    const closedError = new RtpSessionError('RTP_ERR_CLOSED', 'the RTP session closed');
    for (const job of [this.dtmfJob, ...this.dtmfQueue]) {
      if (job === undefined) continue;
      job.signal?.removeEventListener('abort', job.onAbort);
      job.reject(closedError);
    }
    this.dtmfJob = undefined;
    this.dtmfQueue.length = 0;
    const report = this.buildStats(true);
    this.finalReport = report;
    this.transport.attach(undefined);
    this.encoder.close?.();
    this.decoder.close?.();
    if (this.closeTransport) this.transport.close();
    this.emit('close', report);
    return report;
  }

  // ───────────────────────────── pacing ─────────────────────────────

  private onTick(tick: PacerTick): void {
    const now = this.clock.now();
    this.playout(now);
    this.sendTick(tick, now);
  }

  /** The RTP timestamp of tick `index`: `base + index × samples` modulo 2^32. */
  private timestampOf(index: number): number {
    return (this.tsBase + ((index * this.tsIncrement) % TWO_POW_32)) % TWO_POW_32;
  }

  private sendTick(tick: PacerTick, now: number): void {
    const timestamp = this.timestampOf(tick.index);
    // RFC 3551 §4.1: the marker bit flags the first packet after a gap in transmission.
    if (tick.skipped > 0) this.markerNext = true;
    const job = this.dtmfJob;
    if (job !== undefined) {
      // Keep the source real-time; its audio is replaced by the event (see sendDtmf).
      this.source?.(this.pcmIn);
      this.runDtmf(job, tick, timestamp, now);
      return;
    }
    if (this.source === undefined) return;
    let frame = this.source(this.pcmIn);
    if (frame === null) {
      this.markerNext = true;
      return;
    }
    if (frame.length !== this.frameSamples) frame = this.fitFrame(frame);
    const buffer = this.encodeFrame(frame);
    if (buffer === undefined) return;
    this.sendPacket(buffer, buffer.length - RTP_HEADER_SIZE, this.payloadType, timestamp, timestamp, now);
    this.sentAudio++;
  }

  /**
   * Encodes one frame and returns a new datagram buffer with the payload after room for the RTP
   * header. The encoder writes into a scratch view of exactly the payload size seen last, so
   * that neither it nor we cut a fresh view per packet (fewer objects for the GC); the one
   * allocation per packet is the datagram itself, which the kernel may still hold after `send`.
   * `undefined` when the encoder failed.
   */
  private encodeFrame(frame: Int16Array): Buffer | undefined {
    let payload: Uint8Array;
    try {
      payload = this.encoder.encode(frame, this.encodeOut);
    } catch (error) {
      if (this.encodeOut === this.encodeScratch) return this.encodeFailed(error);
      // The payload grew past the learned size: learn again from the whole scratch buffer.
      this.encodeOut = this.encodeScratch;
      try {
        payload = this.encoder.encode(frame, this.encodeOut);
      } catch (retryError) {
        return this.encodeFailed(retryError);
      }
    }
    if (payload.length !== this.encodeOut.length && payload.buffer === this.encodeScratch.buffer) this.encodeOut = payload;
    const buffer = Buffer.allocUnsafe(RTP_HEADER_SIZE + payload.length);
    buffer.set(payload, RTP_HEADER_SIZE);
    return buffer;
  }

  private encodeFailed(error: unknown): undefined {
    this.logger.warn('rtp encode failed', { error: error instanceof Error ? error.message : String(error) });
    return undefined;
  }

  private fitFrame(frame: Int16Array): Int16Array {
    if (frame.length > this.frameSamples) return frame.subarray(0, this.frameSamples);
    const out = this.pcmIn;
    if (frame !== out) out.set(frame);
    out.fill(0, frame.length);
    return out;
  }

  /**
   * Writes the RTP header in front of a payload already in `buffer` and sends it
   * (RFC 3550 §5.1; no CSRC, no extension, no padding).
   */
  private sendPacket(
    buffer: Uint8Array,
    payloadLength: number,
    payloadType: number,
    timestamp: number,
    mediaTimestamp: number,
    now: number,
  ): void {
    buffer[0] = 0x80;
    buffer[1] = (this.markerNext ? 0x80 : 0) | payloadType;
    writeU16(buffer, 2, this.seq);
    writeU32(buffer, 4, timestamp);
    writeU32(buffer, 8, this.ssrcValue);
    const slot = this.seq & (ECHO_WINDOW - 1);
    this.echoSeq[slot] = this.seq;
    this.echoTimestamp[slot] = timestamp;
    this.echoSsrc[slot] = this.ssrcValue;
    this.markerNext = false;
    this.seq = (this.seq + 1) & 0xffff;
    const length = RTP_HEADER_SIZE + payloadLength;
    this.transport.sendRtp(length === buffer.length ? buffer : buffer.subarray(0, length));
    // The SR extrapolates the media clock from here, so give it the audio timestamp of this
    // tick even for an event packet (whose timestamp stays at the event start, RFC 4733 §2.5.1.2).
    this.senderStats.onPacketSent(payloadLength, mediaTimestamp, now);
    this.sentPackets++;
    this.sentOctets += payloadLength;
  }

  private runDtmf(job: DtmfJob, tick: PacerTick, timestamp: number, now: number): void {
    if (job.startIndex < 0) {
      job.startIndex = tick.index;
      // The event starts at this tick's media time (RFC 4733 §2.5.1.2: the timestamp of the
      // first packet is the event's start, kept by every later packet of the event).
      job.plan = this.dtmfSender!.plan(job.digits, timestamp);
    }
    const elapsed = (tick.index - job.startIndex) * this.ptimeMs;
    while (job.next < job.plan.length) {
      const packet = job.plan[job.next]!;
      if (packet.offsetMs > elapsed + 1e-6) break;
      job.next++;
      const buffer = Buffer.allocUnsafe(RTP_HEADER_SIZE + packet.payload.length);
      buffer.set(packet.payload, RTP_HEADER_SIZE);
      // RFC 4733 §2.5.1.2: the marker bit on the first packet of each event.
      if (packet.marker) this.markerNext = true;
      this.sendPacket(buffer, packet.payload.length, this.dtmfPt!, packet.timestamp, timestamp, now);
      this.sentDtmf++;
    }
    if (job.next >= job.plan.length) this.finishDtmf(job);
  }

  private finishDtmf(job: DtmfJob): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    this.dtmfJob = this.dtmfQueue.shift();
    // Audio resumes after a gap: a new talkspurt (RFC 3551 §4.1).
    this.markerNext = true;
    job.resolve();
  }

  private abortDtmf(job: DtmfJob): void {
    const index = this.dtmfQueue.indexOf(job);
    if (index >= 0) this.dtmfQueue.splice(index, 1);
    else if (this.dtmfJob === job) {
      this.dtmfJob = this.dtmfQueue.shift();
      this.markerNext = true;
    } else return;
    job.reject(new RtpSessionError('RTP_ERR_ABORTED', 'DTMF aborted'));
  }

  // ───────────────────────────── receiving ─────────────────────────────

  private onRtp(packet: RtpPacket): void {
    const now = this.clock.now();
    const pt = packet.payloadType;
    const isAudio = pt === this.payloadType;
    if (!isAudio && pt !== this.dtmfPt) {
      this.drops['payload-type']++;
      return;
    }
    const ssrc = packet.ssrc;
    if (ssrc === this.ssrcValue) {
      if (!this.isOwnPacket(packet)) {
        this.drops['own-ssrc']++;
        this.onCollision(now);
        return;
      }
      // One of our own packets reflected back (echo server, loop): played like a remote source.
      this.echoed++;
    }
    const source = this.sources.get(ssrc) ?? this.addSource(ssrc, now);
    if (source === undefined) {
      this.drops['ssrc-limit']++;
      return;
    }
    const payload = packet.payload;
    source.lastMs = now;
    source.packets++;
    source.octets += payload.length;
    // Telephone-events repeat the event-start timestamp, so they stay out of the jitter estimate.
    const counted = source.stats.update(packet.sequenceNumber, packet.timestamp, now, payload.length, isAudio);
    if (!isAudio) {
      source.dtmfPackets++;
      const event = this.dtmfReceiver.receive(payload, packet.timestamp);
      if (event !== undefined && event.type === 'digit') {
        this.emit('dtmf', { digit: event.digit, source: 'rfc4733', ssrc, timestamp: event.timestamp });
      }
      return;
    }
    const active = this.active;
    if (active !== source) {
      // Playout follows a new SSRC once it is valid (RFC 3550 A.1 probation) and the current one
      // has gone quiet or said BYE; meanwhile the newcomer is counted but not played.
      if (active !== undefined && !(counted && (active.left || now - active.lastMs > 2 * this.ptimeMs))) {
        this.drops['not-playing']++;
        return;
      }
      this.switchTo(source);
    }
    if (payload.length === 0) return; // padding-only probe
    this.jb.push(packet, now);
  }

  private addSource(ssrc: number, now: number): RemoteSource | undefined {
    if (this.sources.size >= this.maxSources) {
      // Make room only by forgetting a source that left or has been silent for a second (G40).
      let stalest: RemoteSource | undefined;
      for (const candidate of this.sources.values()) {
        if (candidate === this.active && !candidate.left) continue;
        if (stalest === undefined || candidate.lastMs < stalest.lastMs) stalest = candidate;
      }
      if (stalest === undefined || !(stalest.left || now - stalest.lastMs > 1000)) return undefined;
      this.sources.delete(stalest.ssrc);
      if (this.active === stalest) this.active = undefined;
    }
    const source: RemoteSource = {
      ssrc,
      stats: new RtpReceiverStats(ssrc, { clockRate: this.codec.clockRate }),
      packets: 0,
      octets: 0,
      dtmfPackets: 0,
      lastMs: now,
      cname: undefined,
      left: false,
    };
    this.sources.set(ssrc, source);
    return source;
  }

  private switchTo(source: RemoteSource): void {
    if (this.active !== undefined) {
      this.jb.reset();
      this.decoder.reset?.();
    }
    this.active = source;
    this.lossRun = 0;
    this.emit('remoteSource', { ssrc: source.ssrc });
  }

  /** Whether `packet` (carrying our SSRC) is one we sent recently: same sequence number and timestamp. */
  private isOwnPacket(packet: RtpPacket): boolean {
    const slot = packet.sequenceNumber & (ECHO_WINDOW - 1);
    return (
      this.echoSeq[slot] === packet.sequenceNumber &&
      this.echoTimestamp[slot] === packet.timestamp >>> 0 &&
      this.echoSsrc[slot] === packet.ssrc >>> 0
    );
  }

  /** RFC 3550 §8.2: our SSRC seen from the peer. Send BYE for it and pick another (rate-limited). */
  private onCollision(now: number): void {
    if (now - this.lastCollisionMs < this.rtcpMinIntervalMs) return;
    this.lastCollisionMs = now;
    const old = this.ssrcValue;
    if (this.sentPackets > 0 || this.rtcpSent > 0) this.sendRtcpReport(old, 'SSRC collision');
    let next = this.random.int(TWO_POW_32);
    while (next === old || this.sources.has(next)) next = this.random.int(TWO_POW_32);
    this.ssrcValue = next;
    this.senderStats = new RtpSenderStats(next, this.codec.clockRate);
    this.initialSeq = this.seq;
    this.remoteReport = undefined;
    this.markerNext = true;
    this.logger.info('rtp ssrc collision: new ssrc', { old, ssrc: next });
  }

  private playout(now: number): void {
    const jb = this.jb;
    const wantsAudio = this.onFrame !== undefined || this.inband !== undefined;
    for (;;) {
      const out = jb.pop(now);
      if (out === undefined) return;
      if (!wantsAudio) continue;
      const info = this.frameInfo;
      info.ssrc = this.active?.ssrc ?? 0;
      info.timestamp = out.timestamp;
      info.sequenceNumber = out.sequenceNumber;
      let pcm: Int16Array | undefined;
      if (out.kind === 'frame') {
        pcm = this.decode(out.payload);
        info.concealed = pcm === undefined;
        info.lossReason = undefined;
      } else {
        info.concealed = true;
        info.lossReason = out.reason;
      }
      if (pcm === undefined) pcm = this.conceal();
      this.deliver(pcm, info);
    }
  }

  private decode(payload: Uint8Array): Int16Array | undefined {
    const full = this.useA ? this.pcmA : this.pcmB;
    // A view of exactly the frame size seen last, so the decoder cuts no view per packet.
    const view = this.useA ? this.pcmAView : this.pcmBView;
    let pcm: Int16Array;
    try {
      pcm = this.decoder.decode(payload, view);
    } catch {
      try {
        pcm = this.decoder.decode(payload, full);
      } catch {
        this.drops['bad-payload']++;
        return undefined;
      }
    }
    if (pcm.length === 0) {
      this.drops['bad-payload']++;
      return undefined;
    }
    if (pcm.length !== view.length) {
      this.pcmAView = this.pcmA.subarray(0, pcm.length);
      this.pcmBView = this.pcmB.subarray(0, pcm.length);
    }
    // Double-buffered, so the last good frame stays intact for concealment without a copy.
    this.useA = !this.useA;
    this.lastGood = pcm;
    this.lastGoodLength = pcm.length;
    this.lossRun = 0;
    return pcm;
  }

  private conceal(): Int16Array {
    this.lossRun++;
    if (this.concealment === 'fade' && this.decoder.conceal !== undefined && this.lastGood !== undefined) {
      try {
        return this.decoder.conceal(this.pcmConcealed);
      } catch (error) {
        this.logger.debug('codec concealment failed; fading the last frame instead', { error: error instanceof Error ? error.message : String(error) });
      }
    }
    const length = this.lastGoodLength > 0 ? this.lastGoodLength : this.frameSamples;
    const out = this.pcmConcealed.subarray(0, length);
    const gain = this.concealment === 'fade' ? fadeGain(this.lossRun) : 0;
    const last = this.lastGood;
    if (gain === 0 || last === undefined) {
      out.fill(0);
    } else {
      for (let i = 0; i < length; i++) out[i] = (last[i]! * gain) | 0;
    }
    return out;
  }

  private deliver(pcm: Int16Array, info: RtpFrameInfo): void {
    const inband = this.inband;
    if (inband !== undefined) {
      const keys = inband.process(pcm);
      for (const digit of keys) {
        this.emit('dtmf', { digit, source: 'inband', ssrc: this.active?.ssrc, timestamp: info.timestamp });
      }
    }
    if (this.onFrame !== undefined) {
      try {
        this.onFrame(pcm, info);
      } catch (error) {
        this.logger.warn('onFrame threw', { error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  // ───────────────────────────── RTCP ─────────────────────────────

  private scheduleRtcp(initial: boolean): void {
    const interval = this.rtcpIntervalMs(initial);
    this.rtcpTimer = this.clock.setTimer(interval, () => {
      this.rtcpTimer = undefined;
      if (this.finalReport !== undefined) return;
      try {
        this.sendRtcpReport(this.ssrcValue, false);
      } catch (error) {
        this.logger.warn('rtcp report failed', { error: error instanceof Error ? error.message : String(error) });
      }
      this.scheduleRtcp(false);
    });
  }

  /** RFC 3550 §6.3.1 / A.7, with our configurable minimum. */
  private rtcpIntervalMs(initial: boolean): number {
    const now = this.clock.now();
    let members = 1;
    let senders = 0;
    for (const source of this.sources.values()) {
      if (source.left) continue;
      members++;
      if (now - source.lastMs < 2 * Math.max(this.rtcpMinIntervalMs, now - this.lastReportMs)) senders++;
    }
    const weSent = this.weSent();
    if (weSent) senders++;
    const minSeconds = this.rtcpMinIntervalMs / 1000;
    return rtcpInterval(
      {
        members,
        senders,
        weSent,
        avgRtcpSize: this.avgRtcpSize,
        initial,
        rtcpBandwidth: (this.sessionBandwidth * 0.05) / 8,
        // With `rtcpBandwidth` given, the session bandwidth only feeds the reduced minimum
        // (360 / kbit/s seconds, RFC 3550 §6.2), so this sets the minimum to rtcpMinIntervalMs.
        sessionBandwidth: 360_000 / minSeconds,
        reducedMinimum: true,
      },
      this.random,
    );
  }

  /** RFC 3550 §6.3: `we_sent`, data sent since the second-to-last report. */
  private weSent(): boolean {
    return this.senderStats.packetCount > 0 && this.senderStats.sentSince(this.prevReportMs);
  }

  /**
   * Sends one compound (RFC 3550 §6.1): SR if we sent data recently, else RR, with a report
   * block per valid remote source; then SDES with our CNAME; then BYE when `bye` is set.
   */
  private sendRtcpReport(ssrc: number, bye: boolean | string): void {
    const now = this.clock.now();
    const blocks: ReportBlock[] = [];
    for (const source of this.sources.values()) {
      if (!source.stats.valid || source.left) continue;
      if (blocks.length === 31) break; // the 5-bit report count (§6.4.1)
      blocks.push(source.stats.createReportBlock(now));
    }
    const packets: RtcpPacket[] = [
      this.weSent() && ssrc === this.ssrcValue
        ? this.senderStats.createSenderReport(now, this.wallNow(now), blocks)
        : { type: 'rr', ssrc, reports: blocks },
      { type: 'sdes', chunks: [{ ssrc, items: [{ type: SdesItemType.cname, text: this.cname }] }] },
    ];
    if (bye !== false) {
      packets.push(typeof bye === 'string' ? { type: 'bye', sources: [ssrc], reason: bye } : { type: 'bye', sources: [ssrc] });
    }
    const datagram = serializeRtcp(packets);
    this.transport.sendRtcp(datagram);
    this.rtcpSent++;
    this.prevReportMs = this.lastReportMs;
    this.lastReportMs = now;
    this.avgRtcpSize = updateAvgRtcpSize(this.avgRtcpSize, datagram.length + this.transport.headerOverhead);
  }

  private onRtcp(packets: RtcpPacket[], byteLength: number): void {
    const now = this.clock.now();
    this.rtcpReceived++;
    // RFC 3550 §6.3.3: received compounds feed the average size too.
    this.avgRtcpSize = updateAvgRtcpSize(this.avgRtcpSize, byteLength + this.transport.headerOverhead);
    for (const packet of packets) {
      switch (packet.type) {
        case 'sr': {
          const source = this.sources.get(packet.ssrc) ?? (packet.ssrc !== this.ssrcValue ? this.addSource(packet.ssrc, now) : undefined);
          source?.stats.onSenderReport(packet.ntpSeconds, packet.ntpFraction, now);
          this.onReportBlocks(packet.reports, now);
          break;
        }
        case 'rr':
          this.onReportBlocks(packet.reports, now);
          break;
        case 'sdes':
          for (const chunk of packet.chunks) {
            const source = this.sources.get(chunk.ssrc);
            if (source !== undefined) source.cname = findCname(packet, chunk.ssrc) ?? source.cname;
          }
          break;
        case 'bye':
          for (const ssrc of packet.sources) {
            const source = this.sources.get(ssrc);
            if (source === undefined || source.left) continue;
            source.left = true;
            this.emit('bye', { ssrc, reason: packet.reason });
          }
          break;
        case 'unknown':
          break;
      }
    }
    this.emit('rtcp', { packets });
  }

  /** Report blocks about our stream: the peer's loss and jitter, and RTT (RFC 3550 §6.4.1). */
  private onReportBlocks(blocks: readonly ReportBlock[], now: number): void {
    for (const block of blocks) {
      if (block.ssrc !== this.ssrcValue) continue;
      // Packets expected up to the reported highest sequence number, counted from our first one.
      const expected = block.highestSequence - this.initialSeq + 1;
      this.remoteReport = {
        reports: (this.remoteReport?.reports ?? 0) + 1,
        fractionLost: block.fractionLost / 256,
        cumulativeLost: block.cumulativeLost,
        lossPercent: expected > 0 ? (100 * block.cumulativeLost) / expected : 0,
        jitterMs: (block.jitter * 1000) / this.codec.clockRate,
        highestSequence: block.highestSequence,
      };
      const rtt = roundTripTimeMs(block, msToNtpMiddle32(this.wallNow(now)));
      if (rtt !== undefined && rtt < 60_000) {
        const rttStats = this.rtt;
        rttStats.lastMs = rtt;
        rttStats.ms = rttStats.ms === undefined ? rtt : rttStats.ms + (rtt - rttStats.ms) / 8;
        rttStats.samples++;
      }
    }
  }

  private wallNow(now: number): number {
    return this.wallStart + (now - this.clockStart);
  }

  // ───────────────────────────── statistics ─────────────────────────────

  private buildStats(closed: boolean): RtpSessionStats {
    const now = this.clock.now();
    let packets = 0;
    let octets = 0;
    let expected = 0;
    let lost = 0;
    let dtmfPackets = 0;
    const sources: RemoteSourceStats[] = [];
    for (const source of this.sources.values()) {
      const s = source.stats;
      packets += source.packets - source.dtmfPackets;
      octets += source.octets;
      dtmfPackets += source.dtmfPackets;
      expected += s.expected;
      lost += s.cumulativeLost;
      sources.push({
        ssrc: source.ssrc,
        cname: source.cname,
        packets: source.packets,
        expected: s.expected,
        lost: s.cumulativeLost,
        jitterMs: s.jitterMs,
        left: source.left,
      });
    }
    const active = this.active;
    const jbStats = this.jb.stats;
    const receive: RtpReceiveStats = {
      ssrc: active?.ssrc,
      packets,
      octets,
      expected,
      lost,
      lossPercent: expected > 0 ? (100 * lost) / expected : 0,
      fractionLost: active?.stats.fractionLostRatio ?? 0,
      jitterMs: active?.stats.jitterMs ?? 0,
      dtmfPackets,
      echoed: this.echoed,
      jitterBuffer: { ...jbStats, delayMs: this.jb.delayMs, targetDelayMs: this.jb.targetDelayMs },
    };
    let quality: EModelResult | undefined;
    if (packets > 0) {
      const late = expected > 0 ? (100 * jbStats.late) / expected : 0;
      quality = computeEModel({
        codec: this.emodelCodec,
        packetLossPercent: Math.min(100, Math.max(0, receive.lossPercent) + late),
        rttMs: this.rtt.ms ?? 0,
        jitterBufferMs: Math.max(0, this.jb.delayMs),
        packetizationMs: this.ptimeMs,
      });
    }
    return {
      cname: this.cname,
      codec: this.codec.name,
      payloadType: this.payloadType,
      durationMs: this.started ? now - this.startedAtMs : 0,
      closed,
      send: {
        ssrc: this.ssrcValue,
        packets: this.sentPackets,
        octets: this.sentOctets,
        audioPackets: this.sentAudio,
        dtmfPackets: this.sentDtmf,
        remote: this.remoteReport === undefined ? undefined : { ...this.remoteReport },
      },
      receive,
      rtt: { ...this.rtt },
      quality,
      rtcp: { sent: this.rtcpSent, received: this.rtcpReceived, avgSizeOctets: this.avgRtcpSize },
      pacer: { ...this.pacer.stats },
      drops: { ...this.drops },
      sources,
    };
  }
}

/** Concealment gain for the n-th frame lost in a row. */
function fadeGain(run: number): number {
  return run === 1 ? 0.8 : run === 2 ? 0.5 : run === 3 ? 0.25 : 0;
}

/** Cuts a string to at most `max` UTF-8 octets without splitting a character. */
function truncateUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  let size = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (size + n > max) break;
    out += ch;
    size += n;
  }
  return out;
}

/** Drops `undefined` members, so optional options can be spread under exactOptionalPropertyTypes. */
function definedOnly<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: { [K in keyof T]?: Exclude<T[K], undefined> } = {};
  for (const key of Object.keys(value) as (keyof T)[]) {
    const v = value[key];
    if (v !== undefined) out[key] = v as Exclude<T[keyof T], undefined>;
  }
  return out;
}

/**
 * The media half of one call: the SDP offer/answer (RFC 3264), the RTP socket pair, the RTP
 * session, and the audio sources and sinks it plays and records. This is the one place where
 * a dialog's SDP meets RTP (ARCHITECTURE.md: `ua` joins the two halves).
 */
import { SystemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Random } from '../core/random.js';
import {
  createOpusCodec,
  findCodec,
  opusEncoderOptionsFromFmtp,
  OPUS_FMTP,
  OPUS_RTP_CLOCK_RATE,
  OPUS_SDP_CHANNELS,
  prepareOpus,
  type Codec,
} from '../media/index.js';
import type { MediaSink, MediaSource } from '../media/port.js';
import { RtpPacket, RtpSession, RtpSocket, type RtpSessionStats, type RtpTransport } from '../rtp/index.js';
import { SdpNegotiator, type CodecSpec, type MediaDirection, type NegotiationResult } from '../sdp/index.js';
import type { CallerCodec } from './caller-options.js';

/** The audio format the sources and sinks of a call work in, once the codec is known. */
export interface CallAudioFormat {
  readonly sampleRate: number;
  readonly frameSize: number;
}

export interface CallMediaOptions {
  /** Address to bind the RTP/RTCP sockets to. */
  readonly bindAddress: string;
  /** Address written in the SDP `c=` line. */
  readonly advertisedAddress: string;
  /** Offered/accepted codecs in preference order. */
  readonly codecs: readonly CallerCodec[];
  /** Offer/accept RFC 4733 telephone-event. */
  readonly telephoneEvent: boolean;
  /** SDP line ending (rtclite's `--use-lf`). */
  readonly lineEnding: 'crlf' | 'lf';
  /** Makes the audio source once the format is known (undefined: send silence). */
  readonly createSource: (format: CallAudioFormat) => Promise<MediaSource | undefined>;
  /** Makes the sinks once the format is known. */
  readonly createSinks: (format: CallAudioFormat) => Promise<MediaSink[]>;
  readonly onDtmf?: (digit: string) => void;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
}

const CODEC_SPECS: Readonly<Record<CallerCodec, CodecSpec>> = {
  pcmu: { name: 'PCMU', clockRate: 8000, payloadType: 0 },
  pcma: { name: 'PCMA', clockRate: 8000, payloadType: 8 },
  g722: { name: 'G722', clockRate: 8000, payloadType: 9 },
  // RFC 7587: a dynamic payload type (the first free one from 96), `opus/48000/2` (§7), and the
  // fmtp of what our decoder wants (§6.1).
  opus: { name: 'opus', clockRate: OPUS_RTP_CLOCK_RATE, channels: OPUS_SDP_CHANNELS, fmtp: OPUS_FMTP },
};

/**
 * RTP packets kept from before the session starts (RFC 3264 §5.1: the offerer must be ready to
 * receive media once the offer is sent). A callee usually starts sending with its 200 OK, so the
 * first packets arrive while the answer is still being processed: 10 packets = 200 ms at 20 ms.
 */
const EARLY_RTP_PACKETS = 10;

/** Thrown for a codec name voxlite does not have (only a caller without type checks can pass one). */
export class UnsupportedCodecError extends Error {
  readonly code = 'UA_ERR_CODEC';
}

export function codecSpecs(codecs: readonly CallerCodec[]): CodecSpec[] {
  return codecs.map((name) => {
    const spec: CodecSpec | undefined = Object.hasOwn(CODEC_SPECS, name) ? CODEC_SPECS[name] : undefined;
    if (spec === undefined) throw new UnsupportedCodecError(`unknown codec ${String(name)} (${Object.keys(CODEC_SPECS).join(', ')} are available)`);
    return spec;
  });
}

/**
 * The codec to run for the negotiated one. Opus gets an encoder set up for what the peer's fmtp
 * asks of a sender (bit rate cap, audio bandwidth, CBR, FEC: RFC 7587 §7.1).
 */
function negotiatedCodec(result: NegotiationResult): Codec {
  const codec = findCodec(result.codec.name);
  if (codec === undefined) throw new UnsupportedCodecError(`negotiated codec ${result.codec.name} has no implementation`);
  return codec.name === 'opus' ? createOpusCodec(opusEncoderOptionsFromFmtp(result.codec.fmtp)) : codec;
}

/**
 * The packetisation time to send with: the peer's `a=ptime` when the codec can make frames that
 * long, else 20 ms. `a=ptime` is a wish, not a requirement (RFC 8866 §6.4), and Opus has no
 * frame of, say, 30 ms (RFC 6716 §2.1.4).
 */
function usablePtime(codec: Codec, ptime: number): number {
  try {
    codec.frameSamples(ptime);
    return ptime;
  } catch {
    return 20;
  }
}

export class CallMedia {
  readonly negotiator: SdpNegotiator;
  private session: RtpSession | undefined;
  private source: MediaSource | undefined;
  private sinks: MediaSink[] = [];
  private finalStats: RtpSessionStats | undefined;
  private closed = false;
  /** Copies of RTP packets received before the session attached, with their arrival times. */
  private early: Array<{ readonly packet: RtpPacket; readonly at: number }> = [];
  /** The session's clock: while early packets are handed over, `now()` is their arrival time. */
  private readonly clock: Clock;
  private replayAt: number | undefined;

  private constructor(
    private readonly socket: RtpSocket,
    private readonly options: CallMediaOptions,
  ) {
    this.negotiator = new SdpNegotiator(
      {
        address: options.advertisedAddress,
        port: socket.localPorts.rtp,
        codecs: codecSpecs(options.codecs),
        telephoneEvent: options.telephoneEvent,
        lineEnding: options.lineEnding,
      },
      options.random === undefined ? {} : { random: options.random },
    );
    const clock = options.clock ?? new SystemClock();
    this.clock = { now: () => this.replayAt ?? clock.now(), setTimer: (delayMs, callback) => clock.setTimer(delayMs, callback) };
    socket.attach({
      onRtp: (packet) => {
        // the socket reuses its packet object: keep a copy
        this.early.push({ packet: RtpPacket.parse(packet.serialize()), at: clock.now() });
        if (this.early.length > EARLY_RTP_PACKETS) this.early.shift();
      },
      onRtcp: () => {},
    });
  }

  /**
   * The socket as the session's transport. Attaching hands over the packets that came first, as
   * if each had arrived on time before the newest one (by RTP timestamp, never later than it
   * really came): they often come in a burst (the peer starts sending with its 200 OK, while we
   * are busy with it), and the jitter buffer would otherwise hold that burst as extra delay and
   * later cut it back out of the speech, a frame at a time.
   */
  private transport(clockRate: number): RtpTransport {
    const socket = this.socket;
    return {
      headerOverhead: socket.headerOverhead,
      sendRtp: (datagram) => socket.sendRtp(datagram),
      sendRtcp: (datagram) => socket.sendRtcp(datagram),
      close: () => void socket.close(),
      attach: (handlers) => {
        socket.attach(handlers);
        const early = this.early;
        this.early = [];
        const newest = early[early.length - 1];
        if (handlers === undefined || newest === undefined) return;
        try {
          for (const { packet, at } of early) {
            const behind = (newest.packet.timestamp - packet.timestamp) >>> 0;
            const behindMs = behind < 0x80000000 ? (behind * 1000) / clockRate : 0;
            this.replayAt = Math.min(at, newest.at - behindMs);
            handlers.onRtp(packet);
          }
        } finally {
          this.replayAt = undefined;
        }
      },
    };
  }

  /** Opens the RTP/RTCP socket pair (an even port and the next one, RFC 3550 §11). */
  static async open(options: CallMediaOptions): Promise<CallMedia> {
    codecSpecs(options.codecs);
    // Now, before any media flows, rather than stalling the first packets of the call.
    if (options.codecs.includes('opus')) prepareOpus();
    const socket = await RtpSocket.open({
      address: options.bindAddress,
      symmetric: 'latch',
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.random === undefined ? {} : { random: options.random }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    return new CallMedia(socket, options);
  }

  /** Our SDP offer (initial or re-offer, RFC 3264 §5, §8). */
  createOffer(): string {
    return this.negotiator.createOffer();
  }

  /** Applies the peer's answer and starts (or updates) the media. @throws NegotiationError (488). */
  async setRemoteAnswer(sdp: string): Promise<NegotiationResult> {
    const result = this.negotiator.setRemoteAnswer(sdp);
    await this.apply(result);
    return result;
  }

  /** Takes the peer's offer and returns our answer, starting the media. @throws SdpParseError / NegotiationError (488). */
  async answer(offer: string): Promise<string> {
    this.negotiator.setRemoteOffer(offer);
    const answer = this.negotiator.createAnswer();
    const result = this.negotiator.result;
    if (result !== undefined) await this.apply(result);
    return answer;
  }

  /** Puts the peer on hold (`sendonly`) or resumes (`sendrecv`): returns the re-offer to send. */
  reoffer(direction: MediaDirection): string {
    this.negotiator.setDirection(direction);
    return this.negotiator.createOffer();
  }

  get result(): NegotiationResult | undefined {
    return this.negotiator.result;
  }

  /** Sends digits as RFC 4733 events; false when the peer did not accept telephone-event. */
  async sendDtmf(digits: string): Promise<boolean> {
    if (this.session === undefined || this.negotiator.result?.telephoneEventPayloadType === undefined) return false;
    await this.session.sendDtmf(digits);
    return true;
  }

  /** Live statistics, or the final report after close. */
  stats(): RtpSessionStats | undefined {
    return this.finalStats ?? this.session?.stats();
  }

  private async apply(result: NegotiationResult): Promise<void> {
    const remoteUsable = result.remotePort !== 0 && (result.remoteAddressScope === 'unicast' || result.remoteAddressScope === 'hostname');
    if (remoteUsable) {
      this.socket.setRemote({ address: result.remoteAddress, port: result.remotePort, rtcpPort: result.remoteRtcpPort });
    }
    if (this.session !== undefined) return;
    const codec = negotiatedCodec(result);
    const ptime = usablePtime(codec, result.ptime);
    if (ptime !== result.ptime) this.options.logger?.info('ptime not possible with the codec: sending 20 ms', { codec: codec.name, ptime: result.ptime });
    const format: CallAudioFormat = { sampleRate: codec.sampleRate, frameSize: codec.frameSamples(ptime) };
    this.source = await this.options.createSource(format);
    this.sinks = await this.options.createSinks(format);
    const source = this.source;
    const sinks = this.sinks;
    const sending = result.direction === 'sendrecv' || result.direction === 'sendonly';
    this.session = new RtpSession({
      transport: this.transport(result.codec.clockRate),
      // The session closes the encoder and decoder it makes (Opus holds WASM memory).
      codec,
      payloadType: result.codec.payloadType,
      ptimeMs: ptime,
      ...(result.telephoneEventPayloadType === undefined ? {} : { dtmfPayloadType: result.telephoneEventPayloadType }),
      // Event durations count in the telephone-event's own clock, which may not be the audio's
      // (e.g. telephone-event/8000 next to opus/48000).
      ...(result.telephoneEventClockRate === undefined ? {} : { dtmfClockRate: result.telephoneEventClockRate }),
      source: (out) => {
        if (!sending) return null;
        if (source === undefined) {
          out.fill(0);
          return out;
        }
        const frame = source.read();
        if (frame === null) {
          out.fill(0);
          return out;
        }
        return frame;
      },
      onFrame: (pcm) => {
        for (const sink of sinks) sink.write(pcm);
      },
      onDtmf: (digit) => this.options.onDtmf?.(digit),
      clock: this.clock,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
      ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
    });
    this.session.start();
  }

  /** Stops RTP (sending RTCP BYE), closes sources and sinks; returns the final report. Idempotent. */
  async close(): Promise<RtpSessionStats | undefined> {
    if (this.closed) return this.finalStats;
    this.closed = true;
    if (this.session !== undefined) this.finalStats = this.session.close('call ended');
    else await this.socket.close();
    await Promise.allSettled([this.source?.close(), ...this.sinks.map((s) => s.close())]);
    return this.finalStats;
  }
}

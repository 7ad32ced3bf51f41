/**
 * `voxlite/rtp`: RTP and RTCP. The pure (sans-I/O) half — packets, RTCP, statistics, the RTCP
 * interval, call-quality estimation, the jitter buffer, DTMF events, the frame pacer and the
 * `RtpSession` — and the networked half: `RtpSocket` (UDP, symmetric RTP, impairment), the only
 * file here that opens sockets. Only `core/` is imported.
 */
export {
  RTP_HEADER_SIZE,
  RtpPacket,
  decodeRtp,
  parseRtp,
  isRtp,
  isRtcp,
  isStun,
  type RtpPacketInit,
  type RtpPacketDump,
} from './packet.js';
export {
  RtcpPacketType,
  SdesItemType,
  decodeRtcp,
  parseRtcp,
  parseRtcpOrThrow,
  serializeRtcp,
  rtcpByteLength,
  rtcpPacketByteLength,
  findCname,
  type RtcpPacket,
  type SenderReport,
  type ReceiverReport,
  type ReportBlock,
  type SourceDescription,
  type SdesChunk,
  type SdesItem,
  type Goodbye,
  type UnknownRtcpPacket,
} from './rtcp.js';
export { RtpParseError, RtcpParseError, type RtpParseErrorKind, type RtcpParseErrorKind } from './errors.js';
export {
  RTP_SEQ_MOD,
  NTP_UNIX_EPOCH_OFFSET_S,
  RtpReceiverStats,
  RtpSenderStats,
  msToNtp,
  ntpToMs,
  ntpMiddle32,
  msToNtpMiddle32,
  roundTripTimeMs,
  type ReceiverStatsOptions,
  type NtpTimestamp,
} from './stats.js';
export {
  RTCP_BANDWIDTH_FRACTION,
  RTCP_SENDER_BANDWIDTH_FRACTION,
  RTCP_MIN_TIME_S,
  RTCP_COMPENSATION,
  rtcpInterval,
  deterministicRtcpInterval,
  updateAvgRtcpSize,
  type RtcpIntervalParams,
} from './interval.js';
export {
  EMODEL_DEFAULT_R,
  CODEC_IMPAIRMENTS,
  computeEModel,
  effectiveEquipmentImpairment,
  delayImpairment,
  rToMos,
  burstRatio,
  type CodecImpairment,
  type DelayModel,
  type EModelInput,
  type EModelResult,
} from './emodel.js';
export {
  JitterBuffer,
  type JitterBufferOptions,
  type JitterBufferPacket,
  type JitterBufferPushResult,
  type JitterBufferFrame,
  type JitterBufferLoss,
  type JitterBufferLossReason,
  type JitterBufferOutput,
  type JitterBufferStats,
  type JitterBufferState,
} from './jitter-buffer.js';
export {
  DTMF_DIGITS,
  TELEPHONE_EVENT_SIZE,
  dtmfDigitToEvent,
  dtmfEventToDigit,
  parseTelephoneEvent,
  serializeTelephoneEvent,
  DtmfSender,
  DtmfReceiver,
  type TelephoneEvent,
  type DtmfSenderOptions,
  type DtmfPacket,
  type DtmfReceiverOptions,
  type DtmfReceiverEvent,
  type DtmfDigitEvent,
  type DtmfEndEvent,
} from './dtmf.js';
export {
  DATAGRAM_DROP_REASONS,
  demuxDatagram,
  looksLikeRtcp,
  type DatagramDropReason,
  type DemuxResult,
} from './demux.js';
export {
  Impairment,
  checkImpairmentOptions,
  type ImpairmentOptions,
  type ImpairmentCounters,
} from './impairment.js';
export { FramePacer, type FramePacerOptions, type PacerTick, type PacerStats } from './pacer.js';
export {
  MemoryRtpTransport,
  createMemoryTransportPair,
  type RtpTransport,
  type RtpTransportHandlers,
  type MemoryTransportOptions,
} from './transport.js';
export {
  RtpSocket,
  RtpSocketError,
  DEFAULT_RTP_PORT_RANGE,
  isForbiddenDestination,
  type RtpSocketOptions,
  type RtpSocketCounters,
  type RtpSocketDropReason,
  type RtpSocketSendDropReason,
  type RtpSocketErrorCode,
  type RtpRemoteAddress,
  type RtpEndpoint,
  type PortRange,
  type SymmetricMode,
} from './socket.js';
export {
  RtpSession,
  RtpSessionError,
  type RtpSessionOptions,
  type RtpSessionCodec,
  type RtpCodecEncoder,
  type RtpCodecDecoder,
  type InbandDtmfDetector,
  type ConcealmentMode,
  type RtpFrameInfo,
  type RtpDtmfEvent,
  type RtpSessionDropReason,
  type RtpSessionErrorCode,
  type RtpSessionEvents,
  type RtpSessionStats,
  type RtpSendStats,
  type RtpReceiveStats,
  type RemoteReceptionReport,
  type RemoteSourceStats,
  type RttStats,
} from './session.js';

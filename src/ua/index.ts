export {
  UserAgent,
  type UserAgentOptions,
  type UserAgentEvents,
  type RequestOptions,
  type RequestInit,
  type RespondOptions,
  type IncomingRequest,
} from './user-agent.js';
export {
  Caller,
  EXIT,
  isSipTarget,
  type CallerEvents,
  type CallerResult,
  type CallerEnvironment,
  type QualityReport,
} from './caller.js';
export {
  defaultOptions,
  advertisedAddress,
  type CallerOptions,
  type CallerCodec,
  type CallerTransport,
  type DtmfMethod,
} from './caller-options.js';
export { CallMedia, UnsupportedCodecError, type CallMediaOptions, type CallAudioFormat } from './call-media.js';
export { TracingTransport, type TraceHandler } from './tracing-transport.js';

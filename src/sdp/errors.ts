import { VoxliteError } from '../core/errors.js';

/** Which rule a session description broke; stable, so counters (G41) and tests can key on it. */
export type SdpParseErrorKind =
  | 'syntax'
  | 'version'
  | 'origin'
  | 'connection'
  | 'media'
  | 'bandwidth'
  | 'timing'
  | 'missing-line'
  | 'duplicate-line';

/**
 * A session description voxlite will not accept (RFC 8866 grammar, plus the checks of
 * GUARANTEES G39 on `c=` and `m=`). It is thrown by `parseSdp` before anything looks at ports,
 * so a UA answers the offer with {@link SdpParseError.status} and allocates nothing.
 *
 * @remarks The SIP message around the body is fine; it is the session description that cannot
 * be used, which is what 488 Not Acceptable Here means (RFC 3261 §21.4.26).
 */
export class SdpParseError extends VoxliteError {
  readonly code = 'SDP_ERR_PARSE';
  /** The status a UAS answers an unusable offer with. */
  readonly status = 488;

  constructor(
    readonly kind: SdpParseErrorKind,
    message: string,
    /** 1-based line number in the parsed text, when one line is at fault. */
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

/**
 * An offer or answer that parsed but cannot be agreed to: no common codec, no usable audio
 * stream, a multicast/broadcast destination that is not allowed, or an answer that does not fit
 * the offer (RFC 3264 §6, §7). A UAS answers an offer that fails this way with 488.
 */
export class NegotiationError extends VoxliteError {
  readonly code = 'SDP_ERR_NEGOTIATION';
  /** RFC 3261 §21.4.26 488 Not Acceptable Here. */
  readonly status = 488;
}

/**
 * A negotiator method called in a state where RFC 3264 does not allow it, e.g. `createAnswer()`
 * without a pending remote offer, or a second offer before the first was answered (§4).
 * This is a programming error in the caller, not a peer's fault.
 */
export class SdpStateError extends VoxliteError {
  readonly code = 'SDP_ERR_STATE';
}

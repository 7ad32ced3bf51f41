import { VoxliteError } from '../core/errors.js';

/** Which rule a message broke; stable, so counters (G41) and tests can key on it. */
export type SipParseErrorKind =
  | 'start-line'
  | 'version'
  | 'header-syntax'
  | 'header-value'
  | 'missing-header'
  | 'duplicate-header'
  | 'cseq-method'
  | 'content-length'
  | 'uri'
  | 'too-large-message'
  | 'too-large-header-section'
  | 'too-large-header-line'
  | 'too-many-headers'
  | 'too-many-vias'
  | 'too-large-uri'
  | 'too-large-body'
  | 'incomplete';

/**
 * A message, or a part of one, that voxlite will not accept. It carries what a server needs to
 * answer (RFC 3261 §8.2, §21.4): the status (400, 413, 414, 505, 513), a reason phrase that names
 * the bad header, and whether the start line was readable enough for a response to be built.
 */
export class SipParseError extends VoxliteError {
  readonly code = 'SIP_ERR_PARSE';

  constructor(
    readonly kind: SipParseErrorKind,
    message: string,
    readonly details: {
      /** Status a UAS or proxy should answer with; responses are never answered, only dropped. */
      status?: 400 | 413 | 414 | 416 | 505 | 513;
      /** Lower-case canonical name of the header at fault, when there is one. */
      header?: string;
    } = {},
  ) {
    super(message);
  }

  /** The status to answer with (400 unless a more precise one applies). */
  get status(): 400 | 413 | 414 | 416 | 505 | 513 {
    return this.details.status ?? 400;
  }

  /** A reason phrase for the response: short, ASCII, names the header. */
  get reason(): string {
    switch (this.status) {
      case 413:
        return 'Request Entity Too Large';
      case 414:
        return 'Request-URI Too Long';
      case 416:
        return 'Unsupported URI Scheme';
      case 505:
        return 'Version Not Supported';
      case 513:
        return 'Message Too Large';
      case 400:
        return this.details.header === undefined ? 'Bad Request' : `Bad Request (${this.details.header})`;
    }
  }
}

/**
 * Size limits enforced while reading (G09). Every limit is configurable; the defaults are the
 * ones suggested in voxlite's guarantees (Kamailio's are tighter).
 */
export interface ParseLimits {
  /** Whole message (start line, headers and body), octets. Over it: 513. */
  readonly maxMessageBytes: number;
  /** Start line plus headers, octets. Over it: 513. */
  readonly maxHeaderSectionBytes: number;
  /** One header line including its continuation lines, octets. Over it: 400 naming the header. */
  readonly maxHeaderLineBytes: number;
  /** Number of header fields. Over it: 400. */
  readonly maxHeaders: number;
  /** Number of Via values. Over it: 400. */
  readonly maxVias: number;
  /** Request-URI, octets. Over it: 414. */
  readonly maxRequestUriBytes: number;
  /** Body, octets. Over it: 413. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_LIMITS: ParseLimits = Object.freeze({
  maxMessageBytes: 64 * 1024,
  maxHeaderSectionBytes: 32 * 1024,
  maxHeaderLineBytes: 8 * 1024,
  maxHeaders: 256,
  maxVias: 70,
  maxRequestUriBytes: 1024,
  maxBodyBytes: 32 * 1024,
});

/** Defaults with some limits replaced. */
export function withLimits(overrides: Partial<ParseLimits> = {}): ParseLimits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

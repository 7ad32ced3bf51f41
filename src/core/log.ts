/** The small logging interface every layer takes as an option; nothing logs to the console directly. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};

/** A logger that drops everything: the default for library use. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger that writes one line per record to `write` (stderr by default), from `level` up. */
export function createLineLogger(options: {
  name: string;
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
}): Logger {
  const minimum = LEVEL_ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LEVEL_ORDER[level] < minimum) return;
    const time = now().toISOString().slice(11, 23);
    const extra = fields === undefined ? '' : ' ' + JSON.stringify(fields);
    write(`${time} ${options.name} ${level.toUpperCase()} - ${message}${extra}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/**
 * Wraps a logger so that each key logs at most once per `intervalMs` (G14: malformed input is
 * logged rate-limited, at most one line per source per second). Keys are forgotten after
 * `maxKeys` to keep memory bounded under a spray of sources.
 */
export function createRateLimitedLog(
  log: (message: string, fields?: Record<string, unknown>) => void,
  now: () => number,
  intervalMs = 1000,
  maxKeys = 10_000,
): (key: string, message: string, fields?: Record<string, unknown>) => void {
  const last = new Map<string, number>();
  return (key, message, fields) => {
    const t = now();
    const previous = last.get(key);
    if (previous !== undefined && t - previous < intervalMs) return;
    if (last.size >= maxKeys) last.clear();
    last.set(key, t);
    log(message, fields);
  };
}

/** Makes untrusted text safe for one log line: control and non-ASCII octets escaped, length capped. */
export function escapeForLog(text: string, maxLength = 120): string {
  let out = '';
  for (let i = 0; i < text.length && out.length < maxLength; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) out += text[i];
    else if (c === 0x5c) out += '\\\\';
    else out += '\\x' + (c & 0xff).toString(16).padStart(2, '0');
  }
  return text.length > maxLength || out.length > maxLength ? out.slice(0, maxLength) + '…' : out;
}

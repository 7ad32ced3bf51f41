export { SystemClock, FakeClock, type Clock, type TimerHandle } from './clock.js';
export { VoxliteError, assertNever } from './errors.js';
export { TypedEmitter, type EventMap, type Listener } from './events.js';
export { CryptoRandom, SeededRandom, randomToken, type Random } from './random.js';
export {
  silentLogger,
  createLineLogger,
  createRateLimitedLog,
  escapeForLog,
  type Logger,
  type LogLevel,
} from './log.js';

/**
 * `voxlite/transaction`: the RFC 3261 §17 transaction layer (with RFC 6026's Accepted states) —
 * four sans-I/O state machines on an injected clock, matching keys, and the layer that runs
 * them over a `Transport`.
 */
export {
  DEFAULT_TIMER_CONFIG,
  TRYING_DELAY_MS,
  computeTimers,
  createTimerSets,
  resolveTimerConfig,
  type TimerConfig,
  type TimerSets,
  type TransactionTimers,
} from './timers.js';
export { TransactionTimeoutError, type TimeoutTimer } from './errors.js';
export {
  statusClass,
  type ClientTransactionHandlers,
  type ServerTransactionHandlers,
  type TransactionEnvironment,
  type TransactionFailure,
  type Transitions,
} from './machine.js';
export {
  ICT_TRANSITIONS,
  InviteClientTransaction,
  type IctEvent,
  type IctEventType,
  type IctState,
} from './client-invite.js';
export {
  NICT_TRANSITIONS,
  NonInviteClientTransaction,
  type NictEvent,
  type NictEventType,
  type NictState,
} from './client-non-invite.js';
export {
  IST_TRANSITIONS,
  InviteServerTransaction,
  type InviteServerEnvironment,
  type IstEvent,
  type IstEventType,
  type IstState,
} from './server-invite.js';
export {
  NIST_TRANSITIONS,
  NonInviteServerTransaction,
  type NistEvent,
  type NistEventType,
  type NistState,
} from './server-non-invite.js';
export {
  cancelTargetKey,
  clientTransactionKey,
  isRfc3261Branch,
  responseTransactionKey,
  rfc2543AckKey,
  rfc2543AckMatches,
  sentBy,
  serverTransactionKey,
} from './keys.js';
export {
  TransactionLayer,
  responseTarget,
  type CancelHandler,
  type ClientTransaction,
  type RequestHandler,
  type SendRequestOptions,
  type ServerTransaction,
  type StrayAckHandler,
  type StrayResponseHandler,
  type TransactionLayerOptions,
  type UnmatchedCancelPolicy,
} from './layer.js';

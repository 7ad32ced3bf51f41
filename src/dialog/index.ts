/**
 * `voxlite/dialog`: RFC 3261 §12 dialogs and the INVITE usage's 2xx/ACK reliability, pure and
 * sans-I/O. Imports only `core` and `sip`.
 */
export {
  Dialog,
  computeRequestTarget,
  DIALOG_TRANSITIONS,
  TARGET_REFRESH_METHODS,
  type DialogId,
  type DialogRole,
  type DialogState,
  type DialogEvent,
  type DialogTerminationReason,
  type DialogOptions,
  type UasDialogOptions,
  type DialogRequestOptions,
  type InDialogRequestOptions,
  type InDialogRequestResult,
  type RequestTarget,
  type ViaOptions,
} from './dialog.js';
export {
  DialogStore,
  unmatchedRequestOutcome,
  NO_DIALOG_REASON,
  DEFAULT_MAX_DIALOGS,
  type DialogStoreOptions,
  type RequestClassification,
  type UnmatchedRequestOutcome,
} from './store.js';
export {
  Uas2xxRetransmitter,
  UacAckResponder,
  TimerC,
  DEFAULT_INVITE_TIMERS,
  DEFAULT_TIMER_C_MS,
  type InviteTimerConfig,
  type AckTimeout,
  type Uas2xxRetransmitterOptions,
  type Uas2xxRetransmitterState,
  type UacAckResponderOptions,
  type UacAckResponderState,
  type TimerCFiring,
  type TimerCHandler,
  type TimerCOptions,
  type TimerCState,
} from './invite-session.js';
export { DialogStateError, DialogRequestError, DialogLimitError } from './errors.js';

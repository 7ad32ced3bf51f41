/** Errors of the dialog layer (RFC 3261 §12). */
import { VoxliteError } from '../core/errors.js';

/**
 * The dialog's state forbids the operation: a request on a terminated dialog, or a BYE from the
 * callee on an early dialog (RFC 3261 §15).
 */
export class DialogStateError extends VoxliteError {
  readonly code = 'DIALOG_ERR_STATE';
}

/**
 * A peer's dialog-creating request cannot make a dialog (e.g. no usable Contact, RFC 3261
 * §8.1.1.8, §12.1.1). The UAS answers it with {@link DialogRequestError.status}.
 */
export class DialogRequestError extends VoxliteError {
  readonly code = 'DIALOG_ERR_BAD_REQUEST';
  /** The status to answer the request with. */
  readonly status = 400;
}

/** The {@link DialogStore} is full (GUARANTEES G12): answer 503 with Retry-After instead of growing. */
export class DialogLimitError extends VoxliteError {
  readonly code = 'DIALOG_ERR_LIMIT';
}

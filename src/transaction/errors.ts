/** Errors of the transaction layer (RFC 3261 §17). Transport failures reuse `TransportError`. */
import { VoxliteError } from '../core/errors.js';

/** The timer whose expiry ended a transaction without a final response or ACK. */
export type TimeoutTimer = 'B' | 'F' | 'H';

/**
 * A transaction timed out: no final response before Timer B (INVITE, §17.1.1.2) or Timer F
 * (non-INVITE, §17.1.2.2), or no ACK for a non-2xx final response before Timer H (§17.2.1).
 * A client TU treats B/F as a 408 Request Timeout (§8.1.3.1).
 */
export class TransactionTimeoutError extends VoxliteError {
  readonly code = 'TX_ERR_TIMEOUT';

  constructor(
    /** Which timer fired. */
    readonly timer: TimeoutTimer,
    message = `transaction timed out (Timer ${timer})`,
  ) {
    super(message);
  }
}

/**
 * The dialogs of one UA, indexed by dialog ID (RFC 3261 §12), and the decision for a request
 * whose To tag names a dialog we do not have (§12.2.2: 481; GUARANTEES G18: never answer ACK).
 */
import { tagOf } from '../sip/header-values.js';
import type { SipMessage, SipRequest } from '../sip/message.js';
import type { Dialog, DialogId } from './dialog.js';
import { DialogLimitError } from './errors.js';

/** Reason phrase of the 481 sent for a request that matches no dialog. */
export const NO_DIALOG_REASON = 'Call/Transaction Does Not Exist';

/** What to do with an in-dialog request (it has a To tag) that matches no dialog. */
export type UnmatchedRequestOutcome =
  | {
      readonly action: 'reject';
      /** RFC 3261 §12.2.2: "the UAS MUST respond to the request with a 481". */
      readonly status: 481;
      readonly reason: string;
    }
  | {
      /** An ACK is never answered (§17, GUARANTEES G18): discard it. */
      readonly action: 'drop';
    };

/**
 * Decides the fate of a request that matched no dialog (and, for CANCEL, no transaction):
 * 481 Call/Transaction Does Not Exist, except ACK, which is silently dropped (G18).
 *
 * @remarks A UA that wants to recover dialogs after a reboot (§12.2.2 allows it) checks
 *   before calling this.
 */
export function unmatchedRequestOutcome(request: SipRequest): UnmatchedRequestOutcome {
  if (request.method === 'ACK') return { action: 'drop' };
  return { action: 'reject', status: 481, reason: NO_DIALOG_REASON };
}

/** Where an incoming request belongs, as told by {@link DialogStore.classify}. */
export type RequestClassification =
  | { readonly kind: 'dialog'; readonly dialog: Dialog }
  /** No To tag: a request outside any dialog, for the UA core (§8.2), possibly dialog-creating. */
  | { readonly kind: 'new' }
  | ({ readonly kind: 'unmatched' } & UnmatchedRequestOutcome);

/** Options of {@link DialogStore}. */
export interface DialogStoreOptions {
  /**
   * Most dialogs held at once; {@link DialogStore.add} throws {@link DialogLimitError} beyond it
   * so the UA answers 503 instead of growing (GUARANTEES G12). Default 10 000.
   */
  readonly maxDialogs?: number;
}

/** Default of {@link DialogStoreOptions.maxDialogs}. */
export const DEFAULT_MAX_DIALOGS = 10_000;

/**
 * Dialogs indexed by (Call-ID, local tag, remote tag). Tags and Call-IDs are compared octet for
 * octet (Call-IDs are case-sensitive, §20.8; tags are opaque tokens we or the peer chose).
 *
 * @remarks Matching: for a request, our tag is its To tag and the peer's its From tag; for a
 *   response (to a request we sent), our tag is its From tag and the peer's its To tag. A
 *   missing peer tag matches a dialog whose remote tag is `''` (RFC 2543 peers). Terminated
 *   dialogs stay until {@link DialogStore.delete} or {@link DialogStore.prune}, so that
 *   late requests on them get the dialog's own answer.
 */
export class DialogStore implements Iterable<Dialog> {
  private readonly byCallId = new Map<string, Dialog[]>();
  private count = 0;
  private readonly maxDialogs: number;

  /** @throws RangeError when `maxDialogs` is not a positive integer. */
  constructor(options: DialogStoreOptions = {}) {
    const max = options.maxDialogs ?? DEFAULT_MAX_DIALOGS;
    if (!Number.isInteger(max) || max <= 0) throw new RangeError(`maxDialogs must be a positive integer, got ${max}`);
    this.maxDialogs = max;
  }

  /** How many dialogs are held. */
  get size(): number {
    return this.count;
  }

  [Symbol.iterator](): Iterator<Dialog> {
    const all: Dialog[] = [];
    for (const list of this.byCallId.values()) for (const d of list) all.push(d);
    return all[Symbol.iterator]();
  }

  /**
   * Adds a dialog.
   * @throws RangeError when a dialog with the same ID is already held; DialogLimitError when full.
   */
  add(dialog: Dialog): void {
    if (this.get(dialog.id) !== undefined) {
      throw new RangeError(`a dialog with this ID is already held (Call-ID ${dialog.callId})`);
    }
    if (this.count >= this.maxDialogs) throw new DialogLimitError(`dialog store full (${this.maxDialogs})`);
    const list = this.byCallId.get(dialog.callId);
    if (list === undefined) this.byCallId.set(dialog.callId, [dialog]);
    else list.push(dialog);
    this.count++;
  }

  /** The dialog with this ID, if held. */
  get(id: DialogId): Dialog | undefined {
    const list = this.byCallId.get(id.callId);
    if (list === undefined) return undefined;
    for (const d of list) if (d.localTag === id.localTag && d.remoteTag === id.remoteTag) return d;
    return undefined;
  }

  /** Removes a dialog (by object or ID); returns whether one was removed. */
  delete(dialog: Dialog | DialogId): boolean {
    const list = this.byCallId.get(dialog.callId);
    if (list === undefined) return false;
    const index = list.findIndex((d) => d.localTag === dialog.localTag && d.remoteTag === dialog.remoteTag);
    if (index < 0) return false;
    list.splice(index, 1);
    if (list.length === 0) this.byCallId.delete(dialog.callId);
    this.count--;
    return true;
  }

  /** Removes every terminated dialog; returns how many. */
  prune(): number {
    let removed = 0;
    for (const d of [...this]) if (d.state === 'terminated' && this.delete(d)) removed++;
    return removed;
  }

  /**
   * The dialog a message belongs to (§12.2.2 for requests, §12.2.1.2 for responses), or
   * undefined. A request without a To tag belongs to no dialog.
   * @throws SipParseError when From, To or Call-ID is malformed (the parser has checked them).
   */
  match(message: SipMessage): Dialog | undefined {
    const callId = message.callId();
    if (!this.byCallId.has(callId)) return undefined;
    const fromTag = tagOf(message.from());
    const toTag = tagOf(message.to());
    if (message.kind === 'request') {
      if (toTag === undefined) return undefined;
      return this.get({ callId, localTag: toTag, remoteTag: fromTag ?? '' });
    }
    if (fromTag === undefined) return undefined;
    return this.get({ callId, localTag: fromTag, remoteTag: toTag ?? '' });
  }

  /**
   * Every dialog created by our request with this Call-ID and From tag: the forks of one INVITE
   * (§12.1.2, §13.2.2.4). A non-2xx final response to the request ends all of them that are
   * still early (§12.3), whichever branch it came from.
   */
  forks(callId: string, localTag: string): Dialog[] {
    const list = this.byCallId.get(callId);
    return list === undefined ? [] : list.filter((d) => d.localTag === localTag);
  }

  /**
   * Where an incoming request goes: to its dialog, to the UA core as a new request (no To tag),
   * or nowhere — 481, or a silent drop for ACK (§12.2.2, G18). ACK without a To tag is also
   * dropped: the ACK of a non-2xx is absorbed by its transaction and never reaches a dialog.
   * @throws SipParseError when From, To or Call-ID is malformed (the parser has checked them).
   */
  classify(request: SipRequest): RequestClassification {
    if (tagOf(request.to()) === undefined) {
      return request.method === 'ACK' ? { kind: 'unmatched', action: 'drop' } : { kind: 'new' };
    }
    const dialog = this.match(request);
    if (dialog !== undefined) return { kind: 'dialog', dialog };
    return { kind: 'unmatched', ...unmatchedRequestOutcome(request) };
  }
}

/**
 * The base of every error voxlite throws on purpose. Callers branch on `code` (a string literal
 * per subclass, `LAYER_ERR_REASON`) or on `instanceof`, never on the message text.
 */
export abstract class VoxliteError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown when code reaches a branch its types say cannot happen. */
export function assertNever(value: never, what = 'value'): never {
  throw new TypeError(`unexpected ${what}: ${String(value)}`);
}

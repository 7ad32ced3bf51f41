/**
 * Big-endian octet access for the RTP/RTCP codecs. Internal to `rtp/` (not re-exported): plain
 * index arithmetic on a `Uint8Array`, so no `DataView` is allocated per packet. Every read
 * helper assumes the caller has already checked the bounds.
 */

/** Big-endian 16-bit read; the caller has checked `offset + 2 <= buffer.length`. */
export function readU16(buffer: Uint8Array, offset: number): number {
  return (buffer[offset]! << 8) | buffer[offset + 1]!;
}

/** Big-endian unsigned 32-bit read; the caller has checked `offset + 4 <= buffer.length`. */
export function readU32(buffer: Uint8Array, offset: number): number {
  return (
    ((buffer[offset]! << 24) | (buffer[offset + 1]! << 16) | (buffer[offset + 2]! << 8) | buffer[offset + 3]!) >>> 0
  );
}

/** Big-endian 16-bit write (the value is truncated to 16 bits). */
export function writeU16(buffer: Uint8Array, offset: number, value: number): void {
  buffer[offset] = value >>> 8;
  buffer[offset + 1] = value;
}

/** Big-endian 32-bit write (the value is truncated to 32 bits). */
export function writeU32(buffer: Uint8Array, offset: number, value: number): void {
  buffer[offset] = value >>> 24;
  buffer[offset + 1] = value >>> 16;
  buffer[offset + 2] = value >>> 8;
  buffer[offset + 3] = value;
}

/** @throws RangeError unless `value` is an integer in `0..max`. */
export function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in 0..${max}, got ${value}`);
  }
}

/** Where the caller's buffer must hold `length` octets from `offset`; returns the target. */
export function outputBuffer(length: number, into: Uint8Array | undefined, offset: number): Uint8Array {
  if (into === undefined) return Buffer.allocUnsafe(length);
  if (!Number.isInteger(offset) || offset < 0 || offset + length > into.length) {
    throw new RangeError(`need ${length} octets at offset ${offset}, buffer has ${into.length}`);
  }
  return into;
}

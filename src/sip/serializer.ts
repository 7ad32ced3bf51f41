/**
 * Writes SIP messages to octets (RFC 3261 §7). Header values are written exactly as held
 * (binary strings → latin1), so a parsed message is written back octet for octet except for
 * the separator after each name, which is always `": "`, and line ends, which are always CRLF
 * outside folded values.
 */
import { ReceivedHeaderField } from './headers.js';
import type { SipMessage } from './message.js';

/** The start line and headers of `message`, ending with the empty line, as a binary string. */
export function formatHeaderSection(message: SipMessage): string {
  let out =
    message.kind === 'request'
      ? `${message.method} ${message.uri} ${message.version}\r\n`
      : `${message.version} ${message.status} ${message.reason}\r\n`;
  for (const f of message.headers) {
    const line = f instanceof ReceivedHeaderField ? f.receivedLine() : undefined;
    out += line !== undefined ? line : `${f.name}: ${f.raw}\r\n`;
  }
  return out + '\r\n';
}

/** The whole message as octets, body appended unchanged. */
export function formatMessage(message: SipMessage): Buffer {
  const head = formatHeaderSection(message);
  const headLength = head.length;
  const out = Buffer.allocUnsafe(headLength + message.body.length);
  out.write(head, 0, headLength, 'latin1');
  if (message.body.length > 0) message.body.copy(out, headLength);
  return out;
}

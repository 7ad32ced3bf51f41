/**
 * voxlite: real-time voice over SIP for Node.js. Each layer is also its own entry point
 * (`voxlite/core`, `voxlite/sip`, …); this root re-exports the layers that exist so far.
 */
export * as core from './core/index.js';
export * as sip from './sip/index.js';
export * as auth from './auth/index.js';
export * as sdp from './sdp/index.js';
export * as media from './media/index.js';
export * as rtp from './rtp/index.js';
export * as resolver from './resolver/index.js';
export * as transport from './transport/index.js';
export * as dialog from './dialog/index.js';
export * as transaction from './transaction/index.js';
export * as ua from './ua/index.js';
export * as testing from './testing/index.js';
export * as proxy from './proxy/index.js';

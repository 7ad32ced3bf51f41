export {
  UserAgent,
  type UserAgentOptions,
  type UserAgentEvents,
  type RequestOptions,
  type RequestInit,
  type RespondOptions,
  type IncomingRequest,
} from './user-agent.js';

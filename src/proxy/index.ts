/**
 * The programmable SIP server's building blocks: the registrar (RFC 3261 §10.3) and the location
 * service with its memory, sqlite and redis stores. The sqlite and redis stores load their driver
 * (`better-sqlite3`, `ioredis`) only when one is opened.
 */
export {
  canonicalAor,
  applyBindingChanges,
  sortForLookup,
  sameContact,
  bindingId,
  WallClock,
  StaleRegistrationError,
  TooManyBindingsError,
  LocationStoreError,
  type Binding,
  type BindingChange,
  type LocationStore,
  type LocationStoreErrorCode,
  type UpdateOptions,
  type UpdateResult,
} from './location/store.js';
export { MemoryLocationStore, type MemoryLocationStoreOptions } from './location/memory.js';
export { SqliteLocationStore, type SqliteLocationStoreOptions } from './location/sqlite.js';
export {
  RedisLocationStore,
  type RedisLocationStoreOptions,
  type RedisConnectOptions,
  type RedisClientLike,
} from './location/redis.js';
export { Registrar, REGISTRAR_DEFAULTS, type RegistrarOptions, type RegisterContext } from './registrar.js';
export { Agent, type AgentOptions, type AgentEvents, type AttachableEvent } from './agent.js';
export {
  RequestContext,
  ContextActionError,
  compose,
  toMiddleware,
  onMethod,
  requireDigest,
  routeFromModule,
  type Handler,
  type Middleware,
  type RouteModule,
  type ProxyTarget,
  type ProxyOptions,
  type FailureInfo,
  type ChallengeOptions,
  type RejectOptions,
  type ContextAction,
} from './context.js';
export {
  Forwarder,
  chooseBestResponse,
  loopHash,
  processOwnRoutes,
  recordRouteToken,
  verifyRecordRouteToken,
  stripTopVia,
  RECORD_ROUTE_TOKEN_PARAM,
  type BranchTarget,
  type ForwardHost,
  type ForwardJob,
} from './forward.js';
export { UserDirectory, UsersFileError, type UserRecord, type StoredAlgorithm } from './users.js';
export {
  serverRoute,
  startServer,
  openLocationStore,
  loadRouteModule,
  farmIndex,
  farmHash,
  MAX_MESSAGE_BYTES,
  type ServerOptions,
  type ServerRouteOptions,
  type SipServer,
  type FarmConfig,
} from './server.js';

/** `sluice serve`: HTTP ingestion of audience data. See docs/reference/server.md. */
export { Authenticator, hashKey, KEY_PREFIX, newKey, type Principal } from './auth.js';
export {
  type Action,
  type AuthorizationRequest,
  type Authorizer,
  httpAuthorizer,
  staticAuthorizer,
} from './authorizer.js';
export {
  DEFAULTS,
  loadConfig,
  type PrincipalConfig,
  parseConfig,
  parseListenAddress,
  type RateLimitConfig,
  resolveConfig,
  type ServerConfig,
} from './config.js';
export { HttpError, SERVER_ERROR_CODES, type ServerErrorCode } from './errors.js';
export { type LogFn, type ServerOptions, SluiceServer, startServer, stderrLog } from './server.js';

/** A bad command line: the CLI prints its message on one line and exits with code 2. */
export class UsageError extends Error {
  readonly code = 'CLI_ERR_USAGE';
}

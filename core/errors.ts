/**
 * Errors a person reads. Each says what went wrong, where (a JSON path or a file), and what to do.
 * The CLI prints `message` (and `problems`, one per line) without a stack trace unless `--verbose`.
 */
export class SelfsupError extends Error {
  /** process exit code the CLI uses for this error */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** One problem in a config, addressed by its JSON path (`/loss/temperature`). */
export interface ConfigProblem {
  path: string;
  message: string;
  hint?: string;
}

/** A config that cannot run: unknown plugin, wrong type, out-of-range value, unknown key, missing file. Exit 2. */
export class ConfigError extends SelfsupError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], source?: string) {
    const where = source ? ` in ${source}` : '';
    super(`invalid config${where}:\n` + problems.map((p) => `  ${p.path || '/'}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`).join('\n'), 2);
    this.problems = problems;
  }
}

/** Training stopped because it cannot go on meaningfully (NaN loss, a plugin that threw). Exit 3. */
export class TrainingError extends SelfsupError {
  constructor(message: string) {
    super(message, 3);
  }
}

/**
 * A plugin's own code failed (not its config): the message names the plugin (kind, name, config
 * path) and the error's first line; `--verbose` shows the plugin's stack (`cause`). Exit 6.
 */
export class PluginError extends SelfsupError {
  constructor(message: string, cause?: unknown) {
    super(message, 6);
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** A data file is missing, unreadable or damaged. Exit 4. */
export class DataError extends SelfsupError {
  constructor(message: string) {
    super(message, 4);
  }
}

/** The machine said no: permissions, a read-only or full disk, a path that cannot be followed. Exit 5. */
export class EnvironmentError extends SelfsupError {
  constructor(message: string) {
    super(message, 5);
  }
}

const ERRNO_SENTENCES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ELOOP: 'too many symbolic links (a link loop)',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the file name is too long',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/**
 * A Node system error (`err.code` such as ENOSPC, EACCES, EROFS) as an EnvironmentError whose
 * message names what was being done and the path; other errors are returned unchanged.
 *
 * @example throw asEnvironmentError(e, 'write the checkpoint', file)
 */
export function asEnvironmentError(err: unknown, doing: string, file?: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  const sentence = code ? ERRNO_SENTENCES[code] : undefined;
  if (!sentence) return err;
  const at = file ?? (err as NodeJS.ErrnoException).path;
  const e = new EnvironmentError(`cannot ${doing}${at ? ` (${at})` : ''}: ${sentence} (${code})`);
  (e as { cause?: unknown }).cause = err;
  return e;
}

/** Training stopped by SIGINT (exit 130) or SIGTERM (exit 143), after saving what could be saved. */
export class InterruptedError extends SelfsupError {
  constructor(message: string, signal: 'SIGINT' | 'SIGTERM') {
    super(message, signal === 'SIGINT' ? 130 : 143);
  }
}

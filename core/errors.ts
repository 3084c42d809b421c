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

/** A data file is missing or unreadable. Exit 4. */
export class DataError extends SelfsupError {
  constructor(message: string) {
    super(message, 4);
  }
}

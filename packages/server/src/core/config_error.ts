import { VigilError } from './errors.js';

/** The error every configuration loader throws: it says the file, the line and the field. */

/** A configuration mistake, with where it is. */
export class ConfigError extends VigilError {
  override readonly code = 'bad_config' as const;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    detail: string,
  ) {
    super('bad_config', `${file}:${line}: ${field ? `${field}: ` : ''}${detail}`);
  }
}

import { DEFAULT_FIELD_NAMES, fieldInfo, knownField, type FieldInfo } from './field-catalog.js';

/** The layout of a record: its fields in order. Formats are immutable and compared by identity. */
export interface Format {
  readonly fields: readonly FieldInfo[];
  /** The format as AWS writes it in a header line: dashed names separated by spaces. */
  readonly text: string;
  /** Where each field sits in a record, by output key. */
  readonly indexOf: ReadonlyMap<string, number>;
}

export class FormatError extends Error {
  override name = 'FormatError';
}

const NAME_CHARS = /^[A-Za-z0-9_-]+$/;

function buildFormat(names: readonly string[], origin: string): Format {
  if (names.length === 0) throw new FormatError(`${origin}: no fields`);
  const fields: FieldInfo[] = [];
  const indexOf = new Map<string, number>();
  for (const raw of names) {
    if (!NAME_CHARS.test(raw)) throw new FormatError(`${origin}: '${raw}' is not a field name`);
    const field = fieldInfo(raw.toLowerCase());
    if (indexOf.has(field.key)) throw new FormatError(`${origin}: field '${field.name}' appears twice`);
    indexOf.set(field.key, fields.length);
    fields.push(field);
  }
  return Object.freeze({ fields: Object.freeze(fields), text: fields.map((f) => f.name).join(' '), indexOf });
}

/**
 * Reads a format as a user may give it: as AWS writes it (`${version} ${vpc-id} ...`), as a header line
 * (`version vpc-id ...`), with underscores (`vpc_id`), or separated by commas.
 */
export function parseFormat(spec: string): Format {
  const names = spec
    .trim()
    .split(/[\s,]+/)
    .filter((t) => t.length > 0)
    .map((t) => {
      const m = /^\$\{([^}]*)\}$/.exec(t);
      return m ? m[1] : t;
    });
  return buildFormat(names, `format '${spec.length > 80 ? spec.slice(0, 77) + '...' : spec}'`);
}

/** The default format (all version 2 fields). */
export const DEFAULT_FORMAT: Format = buildFormat(DEFAULT_FIELD_NAMES, 'default format');

/**
 * Recognises an S3 header line from its tokens: every token is shaped like a field name and the first is one the
 * catalog knows (a record's first value never is). Returns null for anything else.
 */
export function formatFromHeader(tokens: readonly string[]): Format | null {
  if (tokens.length === 0 || !knownField(tokens[0])) return null;
  for (const t of tokens) if (!NAME_CHARS.test(t) || !/^[a-z]/.test(t)) return null;
  try {
    return buildFormat(tokens, 'header line');
  } catch {
    return null;
  }
}

/**
 * Picks a format by token count for streams that mix layouts without header lines.
 * Two formats with the same number of fields cannot be told apart, so they are refused.
 */
export class FormatSet {
  private readonly byCount = new Map<number, Format>();

  constructor(readonly formats: readonly Format[]) {
    for (const f of formats) {
      const other = this.byCount.get(f.fields.length);
      if (other && other !== f) {
        throw new FormatError(
          `two formats have ${f.fields.length} fields, so their records cannot be told apart:\n  ${other.text}\n  ${f.text}\n` +
            'give one of them only, or decode the streams separately',
        );
      }
      this.byCount.set(f.fields.length, f);
    }
  }

  forCount(count: number): Format | undefined {
    return this.byCount.get(count);
  }
}

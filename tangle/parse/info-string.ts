// Parse the attributes of a code fence's info string. remark hands over everything after the
// language as one raw `meta` string; the syntax is `key=value`, `key="v w"` (or single quotes,
// with `\"` and `\\` escapes) and bare flags such as `append`.

export interface Attribute {
  key: string;
  value: string | true;
  offset: number /* in meta */;
}
export interface InfoProblem {
  reason: string;
  offset: number;
}
export interface ParsedInfo {
  attributes: Attribute[];
  problems: InfoProblem[];
}

export function parseInfoAttributes(meta: string): ParsedInfo {
  const attributes: Attribute[] = [];
  const problems: InfoProblem[] = [];
  let i = 0;
  while (i < meta.length) {
    if (/\s/.test(meta[i]!)) {
      i++;
      continue;
    }
    const start = i;
    while (i < meta.length && !/[\s=]/.test(meta[i]!)) i++;
    const key = meta.slice(start, i);
    if (key === '') {
      problems.push({ reason: 'Unexpected `=` without an attribute name, expected `key=value`', offset: start });
      while (i < meta.length && !/\s/.test(meta[i]!)) i++;
      continue;
    }
    if (meta[i] !== '=') {
      attributes.push({ key, value: true, offset: start });
      continue;
    }
    i++; // past '='
    const quote = meta[i];
    if (quote === '"' || quote === "'") {
      let value = '';
      i++;
      let closed = false;
      while (i < meta.length) {
        const c = meta[i]!;
        if (c === '\\' && i + 1 < meta.length) {
          value += meta[i + 1];
          i += 2;
          continue;
        }
        if (c === quote) {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) problems.push({ reason: `Unexpected end of info string in attribute \`${key}\`, expected a closing ${quote}`, offset: start });
      else attributes.push({ key, value, offset: start });
      continue;
    }
    const valueStart = i;
    while (i < meta.length && !/\s/.test(meta[i]!)) i++;
    const value = meta.slice(valueStart, i);
    if (value === '') problems.push({ reason: `Unexpected empty value for attribute \`${key}\`, expected \`${key}=value\``, offset: start });
    else attributes.push({ key, value, offset: start });
  }
  return { attributes, problems };
}

// Noweb references. A line is a reference only when `<<name>>` stands alone on it, with optional
// indentation before and optional spaces after; so `x << 8 >> 4` or `a <<b>> c` stay code.
const REFERENCE = /^([ \t]*)<<([^<>\n]+)>>[ \t]*$/;

export interface Reference {
  indent: string;
  name: string;
}

export function parseReference(line: string): Reference | undefined {
  const match = REFERENCE.exec(line);
  if (!match) return undefined;
  const name = match[2]!.trim();
  return name === '' ? undefined : { indent: match[1]!, name };
}

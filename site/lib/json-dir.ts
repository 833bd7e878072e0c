// The JSON files of a results folder (smoke results, bench reports), in name order, each parsed; a folder that does
// not exist yet holds none, and a file that does not parse throws an error naming it and what it was meant to be.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface JsonFile {
  name: string;
  file: string;
  json: unknown;
}

export async function readJsonDir(dir: string, what: string): Promise<JsonFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      try {
        return { name, file, json: JSON.parse(await readFile(file, 'utf8')) as unknown };
      } catch (e) {
        throw new Error(`malformed ${what} ${file}: ${(e as Error).message}`);
      }
    }),
  );
}

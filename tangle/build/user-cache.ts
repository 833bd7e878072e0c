// The one rule for caches kept outside the clone (set-up's shell uses the same): an override variable, else
// $XDG_CACHE_HOME/<name>, else ~/.cache/<name>.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function userCache(name: string, override: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return override ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), name);
}
